package io.parityd.front;

import io.netty.channel.EventLoopGroup;
import io.parityd.link.ArrayInfo;
import io.parityd.link.Hello;
import io.parityd.link.LinkSecret;
import io.parityd.link.NodeKind;
import io.parityd.replication.Links;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The front's side of the controller pair: a {@link ControllerLink} to each controller, the
 * {@link Arbiter} that decides roles, and the {@link ClusterController} the NBD server hands
 * requests to. Built before the NBD server listens, closed after it stops.
 */
public final class ClusterFront implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(ClusterFront.class);
    private static final UUID ANY_ARRAY = io.parityd.link.LinkHandshake.ANY_ARRAY;

    private final EventLoopGroup loops;
    private final ClusterController controller;
    private final Arbiter arbiter;
    private volatile UUID array;

    private ClusterFront(EventLoopGroup loops, ClusterController controller, Arbiter arbiter, UUID array) {
        this.loops = loops;
        this.controller = controller;
        this.arbiter = arbiter;
        this.array = array;
    }

    /**
     * Connects to every controller; {@code arrayInfo} is told (once per controller link) what the
     * array is. Requests wait until a primary serves.
     *
     * @param array the array to serve, or null to learn it from the first controller and hold the
     *              other to it
     */
    public static ClusterFront start(Map<String, InetSocketAddress> controllers, LinkSecret secret,
                                     io.parityd.link.LinkTls linkTls, Duration lease, List<String> fenceCommand,
                                     UUID array, Consumer<ArrayInfo> arrayInfo) {
        EventLoopGroup loops = Links.group("parityd-front-link", 2);
        ClusterController controller = new ClusterController(0, 1);
        ClusterFront[] self = new ClusterFront[1];
        Arbiter arbiter = new Arbiter(controller, new Fencer(fenceCommand, Duration.ofSeconds(10)), lease, info -> {
            self[0].learned(info);
            arrayInfo.accept(info);
        });
        ClusterFront front = new ClusterFront(loops, controller, arbiter, array == null ? ANY_ARRAY : array);
        self[0] = front;
        controllers.forEach((id, address) -> arbiter.add(new ControllerLink(id, address, loops, front::hello, secret,
                linkTls, arbiter, front::checkArray)));
        arbiter.start();
        log.info("front: linking to controllers {}; lease {} ms{}", controllers, lease.toMillis(),
                linkTls == null ? "" : "; links under mutual TLS");
        return front;
    }

    private Hello hello() {
        return Hello.create(NodeKind.FRONT, "front", array, Links.bootId(), Links.pid(), 0, 0, 0,
                controller.nextSeq(), "");
    }

    /** A controller of another array than the one this front serves (or learned first) is refused. */
    private String checkArray(Hello peer) {
        UUID serving = array;
        if (serving.equals(ANY_ARRAY) || serving.equals(peer.arrayUuid())) {
            return null;
        }
        return "controller " + peer.nodeId() + " belongs to array " + peer.arrayUuid() + ", but this front serves "
                + serving;
    }

    private void learned(ArrayInfo info) {
        if (array.equals(ANY_ARRAY)) {
            array = info.arrayUuid(); // from now on the other controller must belong to it too
            log.info("front: serving array '{}' ({}), {} bytes", info.name(), info.arrayUuid(), info.size());
        }
    }

    /** The NBD server's controller. */
    public ClusterController controller() {
        return controller;
    }

    /** The exported size, once known. */
    public void sized(long size) {
        controller.sized(size);
    }

    /**
     * The pair as the front sees it, for status.
     *
     * @param primary     the primary's id, or null while there is none
     * @param epoch       the highest epoch the front knows
     * @param failovers   promotions since the front started
     * @param outstanding requests waiting for an answer
     * @param peers       each controller: address, the front's view of its state, epoch, heartbeat round trip
     */
    public record View(String primary, long epoch, long failovers, long outstanding,
                       List<io.parityd.admin.ArrayStatus.PeerStatus> peers) {
    }

    public View view() {
        return arbiter.view();
    }

    /** {@code observer} is told how long each failover stalled clients (on the arbiter's thread). */
    public void onFailover(Consumer<Duration> observer) {
        arbiter.onFailover(observer);
    }

    @Override
    public void close() throws InterruptedException {
        arbiter.close();
        controller.close();
        loops.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
    }
}
