#!/usr/bin/env bash
# The relay image's file system, everything but the jar: a jlinked Java 17 runtime in /opt/java,
# the shared libraries it and the embedded Postgres need, /bin/sh (pg_ctl and initdb start
# Postgres through it), /bin/tini (PID 1: see below), user nobody (65534), /tmp and /data. Used by base.sh (the Jib base, no
# daemon) and by deploy/Dockerfile, so both images are the same. Needs a JDK 17 with jmods
# (Debian: openjdk-17-jdk-headless), dash and tini. Usage: deploy/image/rootfs.sh EMPTY_DIR
set -euo pipefail

root=${1:?usage: rootfs.sh EMPTY_DIR}
jdk=${SWITCHBOARD_IMAGE_JDK:-/usr/lib/jvm/java-17-openjdk-amd64}
# The relay's modules (jdeps of the shaded jar misses reflective and service uses): logback reads
# XML, pgjdbc and zonky need java.sql and java.naming, Micrometer and Hazelcast JMX, TLS to a
# managed Postgres needs jdk.crypto.ec, Netty jdk.unsupported, Hazelcast java.scripting.
modules=java.base,java.logging,java.management,java.naming,java.scripting,java.security.jgss,java.sql,java.xml,jdk.crypto.ec,jdk.management,jdk.naming.dns,jdk.unsupported,jdk.zipfs

[[ -f $jdk/jmods/java.base.jmod ]] || {
  echo "rootfs.sh: no jmods in $jdk (Debian: apt-get install openjdk-17-jdk-headless; or set SWITCHBOARD_IMAGE_JDK)" >&2
  exit 1
}
mkdir -p "$root"/{bin,etc,tmp,data,lib64,lib/x86_64-linux-gnu}

"$jdk/bin/jlink" --module-path "$jdk/jmods" --add-modules "$modules" --strip-debug --no-man-pages \
  --no-header-files --compress=2 --output "$root/opt/java"
# Debian's jmods leave the CA store out (a symlink to ca-certificates-java's): TLS to Supabase needs it
if [[ ! -s $root/opt/java/lib/security/cacerts ]]; then
  rm -f "$root/opt/java/lib/security/cacerts"
  cp -L /etc/ssl/certs/java/cacerts "$root/opt/java/lib/security/cacerts"
fi

[[ -x /usr/bin/tini ]] || { echo "rootfs.sh: no /usr/bin/tini (Debian: apt-get install tini)" >&2; exit 1; }
cp -L /bin/dash "$root/bin/sh"
# PID 1: passes SIGTERM to the JVM (which drains) and reaps orphans. pg_ctl leaves the postmaster
# to PID 1, and a JVM there never reaps it: a killed postmaster stayed a zombie whose pid in
# postmaster.pid made every restart fail ("lock file already exists"), so the embedded database
# never came back (ContainerImageIT kills it).
cp -L /usr/bin/tini "$root/bin/tini"
# What the runtime and dash link to, found by ldd; plus what the embedded Postgres binaries link
# to (unpacked into /data at run time, so ldd cannot see them here; ICU needs libstdc++).
libs=$( { ldd "$root"/opt/java/bin/java "$root"/opt/java/lib/*.so "$root"/opt/java/lib/server/libjvm.so "$root/bin/sh" "$root/bin/tini" \
  | awk '/=> \//{print $3}'; for l in libc.so.6 libdl.so.2 libgcc_s.so.1 libm.so.6 libpthread.so.0 librt.so.1 \
  libstdc++.so.6 libz.so.1; do echo "/lib/x86_64-linux-gnu/$l"; done; } | grep -v "$root" | sort -u)
for l in $libs; do cp -L "$l" "$root/lib/x86_64-linux-gnu/"; done
cp -L /lib64/ld-linux-x86-64.so.2 "$root/lib64/"

printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/sh\n' >"$root/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"
chmod 1777 "$root/tmp"
if [[ $(id -u) == 0 ]]; then
  chown 65534:65534 "$root/data"
  chmod 700 "$root/data"
else
  # without root the files stay ours (umoci --rootless records them as root's): a world-writable
  # /data still lets nobody write
  chmod 1777 "$root/data"
fi
