package io.switchboard.signaling.stun;

import org.ice4j.StunMessageEvent;
import org.ice4j.Transport;
import org.ice4j.TransportAddress;
import org.ice4j.attribute.Attribute;
import org.ice4j.attribute.XorMappedAddressAttribute;
import org.ice4j.message.Message;
import org.ice4j.message.MessageFactory;
import org.ice4j.message.Response;
import org.ice4j.socket.IceUdpSocketWrapper;
import org.ice4j.stack.StunStack;
import org.ice4j.stunclient.BlockingRequestSender;
import org.junit.jupiter.api.Test;

import java.net.DatagramSocket;
import java.net.InetSocketAddress;

import static org.assertj.core.api.Assertions.assertThat;

/** ice4j's own client stack (the one its ICE agent uses) reads our Binding responses. */
class Ice4jClientTest extends StunTestBase {

  @Test
  void ice4jStunStackGetsTheXorMappedAddress() throws Exception {
    start(oneAddress());
    StunStack stack = new StunStack();
    DatagramSocket socket = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0));
    TransportAddress local = new TransportAddress((InetSocketAddress) socket.getLocalSocketAddress(), Transport.UDP);
    try {
      stack.addSocket(new IceUdpSocketWrapper(socket));
      BlockingRequestSender sender = new BlockingRequestSender(stack, local);

      StunMessageEvent event = sender.sendRequestAndWaitForResponse(
        MessageFactory.createBindingRequest(), new TransportAddress(endpoint(0), Transport.UDP));

      assertThat(event).as("ice4j got an answer").isNotNull();
      Response response = (Response) event.getMessage();
      assertThat(response.getMessageType()).isEqualTo(Message.BINDING_SUCCESS_RESPONSE);
      XorMappedAddressAttribute xor = (XorMappedAddressAttribute) response.getAttribute(Attribute.XOR_MAPPED_ADDRESS);
      assertThat(xor.getAddress(response.getTransactionID())).isEqualTo(local);
      assertThat(event.getRemoteAddress()).isEqualTo(new TransportAddress(endpoint(0), Transport.UDP));
    } finally {
      stack.removeSocket(local);
      stack.shutDown();
      socket.close();
    }
    // ice4j retransmits after 100 ms, so a loaded machine may see the request twice: all answered
    assertThat(count("answered")).isGreaterThanOrEqualTo(1).isEqualTo(counted());
  }
}
