/** A Java P2P peer built on ice4j: what tests and the NAT lab use where a browser is not needed. */
package io.switchboard.peer;
