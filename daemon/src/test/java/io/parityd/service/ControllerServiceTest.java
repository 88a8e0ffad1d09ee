package io.parityd.service;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoopGroup;
import io.netty.util.ReferenceCountUtil;
import io.parityd.controller.Role;
import io.parityd.link.ArrayInfo;
import io.parityd.link.Assign;
import io.parityd.link.Assigned;
import io.parityd.link.Hello;
import io.parityd.link.LinkEstablished;
import io.parityd.link.LinkPipeline;
import io.parityd.link.LinkSecret;
import io.parityd.link.NodeKind;
import io.parityd.raid.ArrayCreator;
import io.parityd.raid.CreateSpec;
import io.parityd.replication.ControllerSettings;
import io.parityd.replication.Links;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * One controller process in this JVM, with the test playing its front over real links: how it
 * takes, keeps and gives up the roles the front assigns when the front's link is replaced or
 * the same assignment comes twice (issue 13, defect 2).
 */
@org.junit.jupiter.api.extension.ExtendWith(io.parityd.LeakCheck.class)
class ControllerServiceTest {

    private static final LinkSecret SECRET = LinkSecret.of("a shared secret for the test pair".getBytes(StandardCharsets.UTF_8));

    @TempDir
    Path dir;

    private ControllerService service;
    private EventLoopGroup loops;
    private final List<Channel> opened = new ArrayList<>();
    /** A port where "the primary" accepts and never answers: a standby's copy waits there. */
    private ServerSocket silentPrimary;
    private final List<String> transitions = new CopyOnWriteArrayList<>();
    private List<Path> members;
    private ControllerSettings settings;

    @Test
    void shouldFindItsMembersByUuidAmongAnotherArraysAtEachLook() throws Exception {
        assertThat(settings.currentMembers()).containsExactlyElementsOf(members);
    }

    @BeforeEach
    void start() throws Exception {
        // The controller finds its members by UUID in a directory that holds another array too.
        Path pool = java.nio.file.Files.createDirectories(dir.resolve("pool"));
        members = List.of(pool.resolve("m0"), pool.resolve("m1"), pool.resolve("m2"));
        java.util.UUID uuid = new ArrayCreator(Clock.systemUTC()).create(new CreateSpec("t", 5, 16 << 10,
                OptionalLong.of(8L << 20), members, false)).geometry().arrayUuid();
        new ArrayCreator(Clock.systemUTC()).create(new CreateSpec("other", 5, 16 << 10, OptionalLong.of(8L << 20),
                List.of(pool.resolve("o0"), pool.resolve("o1"), pool.resolve("o2")), false));
        settings = new ControllerSettings("a", new InetSocketAddress("127.0.0.1", 0), null, List.of(pool),
                new JournalSettings(true, dir.resolve("a.nvram"), 4L << 20, false, false), SECRET, 2,
                Duration.ofSeconds(5), dir.resolve("a.sock"), null, uuid, true);
        service = ControllerService.start(settings, () -> {
            throw new AssertionError("the controller stood down");
        });
        service.roles.addListener((from, to, reason, epoch) -> transitions.add(from + "→" + to));
        loops = Links.group("test-front", 1);
        silentPrimary = new ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress());
    }

    @AfterEach
    void stop() throws Exception {
        opened.forEach(Channel::close);
        if (loops != null) {
            loops.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        }
        if (service != null) {
            service.close();
        }
        if (silentPrimary != null) {
            silentPrimary.close();
        }
    }

    /** A front's link to the controller: what the controller says arrives in {@code heard}. */
    private final class FrontLink {
        final BlockingQueue<Object> heard = new LinkedBlockingQueue<>();
        final Channel channel;

        FrontLink() throws Exception {
            this(NodeKind.FRONT, "front");
        }

        /** A link from a node of {@code kind} (a controller, to play a peer); only a front waits for ArrayInfo. */
        FrontLink(NodeKind kind, String id) throws Exception {
            Hello hello = Hello.create(kind, id, kind == NodeKind.FRONT ? new UUID(0, 0) : arrayUuid(), Links.bootId(),
                    Links.pid(), 0, 0, 0, 1, "");
            channel = Links.connect(loops, service.address(), ch -> {
                LinkPipeline.install(ch.pipeline(), io.parityd.link.LinkSide.DIALS, hello, SECRET, peer -> null);
                ch.pipeline().addLast(new ChannelInboundHandlerAdapter() {
                    @Override
                    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
                        if (evt instanceof LinkEstablished) {
                            heard.add(evt);
                        }
                    }

                    @Override
                    public void channelRead(ChannelHandlerContext ctx, Object msg) {
                        heard.add(msg);
                        ReferenceCountUtil.release(msg);
                    }
                });
            }).sync().channel();
            opened.add(channel);
            if (kind == NodeKind.FRONT) {
                await(() -> heard.stream().anyMatch(m -> m instanceof ArrayInfo), "the controller's ArrayInfo");
            } else {
                await(() -> heard.stream().anyMatch(m -> m instanceof LinkEstablished), "the link");
            }
        }

        void assignStandby(long epoch) {
            channel.writeAndFlush(new Assign(epoch, Role.STANDBY.code(), "127.0.0.1:" + silentPrimary.getLocalPort(), 1));
        }

        List<Assigned> refusals() {
            return heard.stream().filter(m -> m instanceof Assigned a && !a.detail().isEmpty()).map(m -> (Assigned) m)
                    .toList();
        }
    }

    private UUID arrayUuid() {
        return service.probe.geometry().arrayUuid();
    }

    private static void await(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("not within 10 s: " + what);
            }
            Thread.sleep(5);
        }
    }

    @Test
    void shouldDropAStandbyRoleOfTheOldLinkWhenTheFrontLinksAgainBeforeItsCloseArrives() throws Exception {
        FrontLink first = new FrontLink();
        first.assignStandby(1);
        await(() -> service.roles.role() == Role.RESYNCING, "copying as standby");

        // The front dropped this controller (silent past its lease while copying) and dialled again:
        // the new link is up while the old one is still open here.
        FrontLink second = new FrontLink();
        await(() -> !first.channel.isActive(), "the old link closed by the controller");
        await(() -> service.roles.role() == Role.STARTING, "the old link's role given up");

        second.assignStandby(1);
        await(() -> transitions.size() >= 3, "a new copy");
        Thread.sleep(200); // let a refusal, if one is coming, arrive
        assertThat(second.refusals()).as("refusals of the new assignment").isEmpty();
        assertThat(transitions).containsExactly("STARTING→RESYNCING", "RESYNCING→STARTING", "STARTING→RESYNCING");
        assertThat(service.roles.role()).isEqualTo(Role.RESYNCING);
    }

    /** Issue 14, defect 3: a link takes only what its peer's role may send; anything else closes it. */
    @Test
    void shouldCloseAFrontLinkThatSendsWhatOnlyAStandbySends() throws Exception {
        FrontLink front = new FrontLink();
        front.channel.writeAndFlush(new io.parityd.link.Received(1_000_000));
        await(() -> !front.channel.isActive(), "the link closed");
        assertThat(service.roles.role()).isEqualTo(Role.STARTING);
    }

    /**
     * A primary counts a standby's acknowledgements only on the link of the standby that asked
     * for the copy, at its own epoch: another controller link that claims "received up to N"
     * changes nothing, and one that asks for a copy at another epoch is refused.
     */
    @Test
    void shouldTakeAcknowledgementsOnlyFromTheStandbyThatJoined() throws Exception {
        FrontLink front = new FrontLink();
        front.channel.writeAndFlush(new Assign(1, Role.PRIMARY.code(), "", 0));
        await(() -> service.roles.role() == Role.PRIMARY, "promoted");
        FrontLink stranger = new FrontLink(NodeKind.CONTROLLER, "b");
        stranger.channel.writeAndFlush(new io.parityd.link.Received(1_000_000));
        stranger.channel.writeAndFlush(new io.parityd.link.Assigned(service.roles.epoch(), Role.STANDBY.code(),
                1_000_000, ""));
        Thread.sleep(200);
        assertThat(service.primaryRole().standbyState()).as("the primary's view of its standby").isEqualTo("none");
        stranger.channel.writeAndFlush(new io.parityd.link.CatchUpRequest(service.roles.epoch() + 7, service.journal.mode().code()));
        await(() -> !stranger.channel.isActive(), "a copy request at another epoch refused");
        assertThat(service.primaryRole().standbyState()).isEqualTo("none");
    }

    @Test
    void shouldStartTheCopyOverWhenAssignedStandbyAgainMidCopy() throws Exception {
        FrontLink front = new FrontLink();
        front.assignStandby(1);
        await(() -> service.roles.role() == Role.RESYNCING, "copying as standby");
        front.assignStandby(1); // the front timed the join out and asks again on the same link
        await(() -> transitions.size() >= 3, "a new copy");
        Thread.sleep(200);
        assertThat(front.refusals()).as("refusals of the repeated assignment").isEmpty();
        assertThat(transitions).containsExactly("STARTING→RESYNCING", "RESYNCING→STARTING", "STARTING→RESYNCING");
    }
}
