package com.grayscaleconsulting.bitacora.interop;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.avro.AvroRemoteException;
import org.apache.avro.AvroRuntimeException;
import org.apache.avro.Protocol;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.Encoder;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.ipc.CallFuture;
import org.apache.avro.ipc.RPCContext;
import org.apache.avro.ipc.RPCPlugin;
import org.apache.avro.ipc.generic.GenericRequestor;
import org.apache.avro.ipc.netty.NettyTransceiver;

/**
 * Calls Bitacora's original Avro messages the way a client generated from the original protocol does: Avro's own
 * NettyTransceiver and requestor, with the standard handshake resolving this client's protocol against the server's.
 *
 * <pre>java BitacoraAvroClient PROTOCOL.avpr HOST PORT &lt; commands</pre>
 *
 * Commands come on stdin, one per line, each a JSON array of strings ({@code ["set","k","v"]}, {@code ["get","k"]},
 * {@code ["del","k"]}): stdin is read as UTF-8 whatever the locale, unlike program arguments. Each command prints one
 * line: {@code OK}, {@code NULL}, {@code VALUE <JSON string>} or {@code ERROR <class>: <message>}. The exit code is 0
 * when every command was answered (an error the server sent back counts as an answer), 1 when the exchange failed.
 */
public final class BitacoraAvroClient {
  private static final int CONNECT_TIMEOUT_MS = 10_000;
  /** Bounds each answer. The first call's handshake waits inside Avro without a timeout: callers bound the process. */
  private static final long REQUEST_TIMEOUT_MS = 20_000;
  private static final Schema COMMAND = Schema.createArray(Schema.create(Schema.Type.STRING));
  private static final Schema STRING = Schema.create(Schema.Type.STRING);

  private BitacoraAvroClient() {}

  /** Puts Bitacora's AUTH_TOKEN into the handshake meta, where the node looks for it (key "authorization"). */
  private static final class HandshakeToken extends RPCPlugin {
    private final String token;

    HandshakeToken(String token) {
      this.token = token;
    }

    @Override
    public void clientStartConnect(RPCContext context) {
      context.requestHandshakeMeta().put("authorization", ByteBuffer.wrap(token.getBytes(UTF_8)));
    }
  }

  public static void main(String[] args) throws Exception {
    if (args.length != 3) {
      System.err.println("usage: BitacoraAvroClient PROTOCOL.avpr HOST PORT < commands (JSON arrays of strings, one a line)");
      System.exit(2);
    }
    Protocol protocol = Protocol.parse(new File(args[0]));
    InetSocketAddress address = new InetSocketAddress(args[1], Integer.parseInt(args[2]));
    BufferedReader commands = new BufferedReader(new InputStreamReader(System.in, UTF_8));
    PrintStream out = new PrintStream(new FileOutputStream(FileDescriptor.out), true, UTF_8);

    boolean failed = false;
    try (NettyTransceiver transceiver = new NettyTransceiver(address, CONNECT_TIMEOUT_MS)) {
      GenericRequestor requestor = new GenericRequestor(protocol, transceiver);
      String token = System.getenv("BITACORA_AUTH_TOKEN");
      if (token != null && !token.isEmpty()) requestor.addRPCPlugin(new HandshakeToken(token));
      for (String line = commands.readLine(); line != null && !failed; line = commands.readLine()) {
        if (line.isBlank()) continue;
        try {
          out.println(run(requestor, parseCommand(line)));
        } catch (Exception e) {
          out.println(describe(e));
          if (!sentByServer(e)) {
            // The exchange itself broke (transport, timeout, a bad command): later commands would tell nothing more.
            e.printStackTrace();
            failed = true;
          }
        }
      }
    }
    System.exit(failed ? 1 : 0);
  }

  private static String run(GenericRequestor requestor, List<String> command) throws Exception {
    String verb = command.isEmpty() ? "" : command.get(0);
    if (verb.equals("set") && command.size() == 3) {
      call(requestor, "setValue", command.get(1), command.get(2));
      return "OK";
    }
    if (verb.equals("get") && command.size() == 2) {
      Object value = call(requestor, "getValue", command.get(1));
      return value == null ? "NULL" : "VALUE " + toJson(value.toString());
    }
    if (verb.equals("del") && command.size() == 2) {
      call(requestor, "delete", command.get(1));
      return "OK";
    }
    throw new IllegalArgumentException("unknown command " + command + "; expected [set,KEY,VALUE], [get,KEY] or [del,KEY]");
  }

  /** Sends one message with its request fields in declaration order and waits, bounded, for the answer. */
  private static Object call(GenericRequestor requestor, String message, Object... fields) throws Exception {
    GenericData.Record request = new GenericData.Record(requestor.getLocal().getMessages().get(message).getRequest());
    for (int i = 0; i < fields.length; i++) request.put(i, fields[i]);
    CallFuture<Object> answer = new CallFuture<>();
    requestor.request(message, request, answer);
    try {
      return answer.get(REQUEST_TIMEOUT_MS, TimeUnit.MILLISECONDS);
    } catch (ExecutionException e) {
      throw e.getCause() instanceof Exception ? (Exception) e.getCause() : e;
    }
  }

  /** Avro's JSON encoding of array-of-string is a plain JSON array, so Avro parses the commands itself. */
  private static List<String> parseCommand(String line) throws IOException {
    List<?> words = (List<?>) new GenericDatumReader<>(COMMAND).read(null, DecoderFactory.get().jsonDecoder(COMMAND, line));
    List<String> command = new ArrayList<>();
    for (Object word : words) command.add(word.toString());
    return command;
  }

  private static String toJson(String value) throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    Encoder encoder = EncoderFactory.get().jsonEncoder(STRING, bytes);
    encoder.writeString(value);
    encoder.flush();
    return bytes.toString(UTF_8);
  }

  /**
   * Whether the server answered with an error. Declared errors arrive as AvroRemoteException; the original messages
   * declare none, so their errors arrive as Avro system errors (a string), which GenericRequestor turns into a plain
   * AvroRuntimeException. Its subclasses (AvroTypeException, ...) come from this side, e.g. a response that fails to
   * decode, and count as a broken exchange.
   */
  private static boolean sentByServer(Exception e) {
    return e instanceof AvroRemoteException || e.getClass() == AvroRuntimeException.class;
  }

  /** One line, whatever the message holds, so the output stays one line per command. */
  private static String describe(Exception e) {
    return "ERROR " + e.getClass().getName() + ": " + String.valueOf(e.getMessage()).replaceAll("\\s+", " ").trim();
  }
}
