package io.switchboard.peer;

import org.ice4j.ice.Agent;
import org.ice4j.ice.CandidateType;
import org.ice4j.ice.CheckList;
import org.ice4j.ice.IceMediaStream;

/**
 * An ice4j {@link Agent} that, in relay-only mode, checks only pairs whose local candidate is
 * relayed.
 *
 * <p>ice4j has no transport policy: it pairs every local candidate with every remote one. Offering
 * only relay candidates is not enough, because our own host candidate would still send checks
 * straight to the remote relay address (and on a shared TURN server that works, permissions being
 * per IP), giving a host→relay pair. {@link Agent#initCheckLists()} is the one protected hook
 * between forming the check list and sending the first check; server-reflexive candidates are
 * replaced by their host base while the list is formed, so filtering here also drops those.
 */
final class PeerAgent extends Agent {
  private final boolean relayOnly;

  PeerAgent(boolean relayOnly) {
    this.relayOnly = relayOnly;
  }

  @Override
  protected void initCheckLists() {
    super.initCheckLists();
    if (!relayOnly) {
      return;
    }
    for (IceMediaStream stream : getStreams()) {
      CheckList checkList = stream.getCheckList();
      synchronized (checkList) {
        checkList.removeIf(pair -> pair.getLocalCandidate().getType() != CandidateType.RELAYED_CANDIDATE);
      }
    }
  }
}
