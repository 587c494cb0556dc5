#!/usr/bin/env bash
# Builds the base image Jib puts the relay's jar on (relay/pom.xml, profile image): rootfs.sh's
# file system as one layer, user 65534, /data a volume; written as a docker-archive tar for Jib's
# `tar://` base. No registry and no Docker daemon: umoci and skopeo (Debian packages) and a JDK 17
# with jmods. Usage: deploy/image/base.sh OUT.tar
set -euo pipefail

out=${1:?usage: base.sh OUT.tar}
here=$(dirname "$0")
# every `package` of relay calls this: the base changes only with these scripts (or the JDK: mvn clean)
if [[ -s $out && $out -nt $here/base.sh && $out -nt $here/rootfs.sh ]]; then
  echo "base.sh: $out is up to date"
  exit 0
fi
for tool in umoci skopeo; do
  command -v "$tool" >/dev/null || { echo "base.sh: $tool is missing (Debian: apt-get install $tool)" >&2; exit 1; }
done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$here/rootfs.sh" "$work/rootfs"
rootless=()
[[ $(id -u) == 0 ]] || rootless=(--rootless)

umoci init --layout "$work/oci"
umoci new --image "$work/oci:base"
umoci insert "${rootless[@]}" --image "$work/oci:base" "$work/rootfs" /
umoci config --image "$work/oci:base" --config.user 65534:65534 \
  --config.env PATH=/opt/java/bin:/bin --config.env JAVA_HOME=/opt/java --config.workingdir /data \
  --config.volume /data --architecture amd64 --os linux
mkdir -p "$(dirname "$out")"
rm -f "$out"
skopeo --insecure-policy copy -q "oci:$work/oci:base" "docker-archive:$out:switchboard-base:local"
echo "base.sh: $out ($(du -h "$out" | cut -f1))"
