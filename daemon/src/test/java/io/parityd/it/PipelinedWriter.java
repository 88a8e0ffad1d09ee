package io.parityd.it;

import java.io.IOException;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Keeps many writes in flight on one raw connection until the server goes away: one thread
 * sends, one reads replies. Write {@code i} fills slot {@code i} (64 KiB at {@code i × 64 KiB})
 * with a byte pattern derived from {@code i}, so what was acknowledged can be checked later.
 */
final class PipelinedWriter implements AutoCloseable {

    static final int SLOT = 64 << 10;

    private final RawNbdClient client;
    private final int slots;
    private final Map<Integer, Integer> replies = new ConcurrentHashMap<>();
    private final CountDownLatch firstAcks = new CountDownLatch(50);
    private final Thread sender;
    private final Thread receiver;
    private volatile boolean stop;

    PipelinedWriter(String uri, String export, int slots) throws IOException {
        this.client = RawNbdClient.open(uri, export, false);
        this.slots = slots;
        this.sender = new Thread(this::send, "pipelined-sender");
        this.receiver = new Thread(this::receive, "pipelined-receiver");
        sender.start();
        receiver.start();
    }

    static byte[] pattern(int slot, int round) {
        byte[] data = new byte[SLOT];
        Arrays.fill(data, (byte) (slot * 31 + round * 7 + 1));
        data[0] = (byte) slot;
        data[1] = (byte) (slot >> 8);
        return data;
    }

    private void send() {
        try {
            for (int i = 0; !stop && i < slots; i++) {
                client.request(0, RawNbdClient.CMD_WRITE, i, (long) i * SLOT, SLOT, pattern(i, 0));
            }
        } catch (IOException e) {
            // the server closed the connection: expected when it is stopped or killed
        }
    }

    private void receive() {
        try {
            while (replies.size() < slots) {
                RawNbdClient.Reply r = client.reply(0);
                replies.put((int) r.cookie(), r.error());
                if (r.error() == 0) {
                    firstAcks.countDown();
                }
            }
        } catch (IOException | AssertionError e) {
            // end of stream: the server is gone
        }
    }

    /** Waits until some writes were acknowledged, so a stop hits a busy connection. */
    void awaitFirstAcks() throws InterruptedException {
        if (!firstAcks.await(60, TimeUnit.SECONDS)) {
            throw new AssertionError("no writes acknowledged within a minute");
        }
    }

    /** Waits for the server to close the connection (or for every reply). */
    void awaitEnd() throws InterruptedException {
        receiver.join(TimeUnit.MINUTES.toMillis(2));
        stop = true;
        sender.join(TimeUnit.SECONDS.toMillis(10));
    }

    /** Cookie → errno of every reply received. */
    Map<Integer, Integer> replies() {
        return replies;
    }

    @Override
    public void close() throws IOException, InterruptedException {
        stop = true;
        client.close();
        sender.join(TimeUnit.SECONDS.toMillis(10));
        receiver.join(TimeUnit.SECONDS.toMillis(10));
    }
}
