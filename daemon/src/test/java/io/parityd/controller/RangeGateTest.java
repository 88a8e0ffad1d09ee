package io.parityd.controller;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class RangeGateTest {

    private final RangeGate gate = new RangeGate();

    @Test
    void shouldLetDisjointWritesGoAtOnce() {
        RangeGate.Entry a = gate.register(0, 4096);
        RangeGate.Entry b = gate.register(4096, 4096);
        assertThat(a.whenClear()).isCompleted();
        assertThat(b.whenClear()).isCompleted();
    }

    @Test
    void shouldHoldAnOverlappingWriteUntilEveryEarlierOneReleased() {
        RangeGate.Entry a = gate.register(0, 8192);
        RangeGate.Entry b = gate.register(4096, 8192);
        RangeGate.Entry c = gate.register(6144, 512);
        assertThat(b.whenClear()).isNotDone();
        assertThat(c.whenClear()).isNotDone();
        gate.release(a);
        assertThat(b.whenClear()).isCompleted();
        assertThat(c.whenClear()).as("still behind b").isNotDone();
        gate.release(b);
        assertThat(c.whenClear()).isCompleted();
        gate.release(c);
        assertThat(gate.inFlight()).isZero();
    }

    @Test
    void shouldNotWaitForALaterWriteNorCountAReleaseTwice() {
        RangeGate.Entry a = gate.register(0, 512);
        RangeGate.Entry b = gate.register(0, 512);
        RangeGate.Entry c = gate.register(0, 512);
        gate.release(a);
        gate.release(a);
        assertThat(b.whenClear()).isCompleted();
        assertThat(c.whenClear()).as("a's second release must not free c").isNotDone();
    }

    @Test
    void shouldTreatAZeroLengthRequestAsTouchingItsOffset() {
        RangeGate.Entry a = gate.register(100, 0);
        RangeGate.Entry b = gate.register(100, 1);
        RangeGate.Entry c = gate.register(101, 0);
        assertThat(b.whenClear()).isNotDone();
        assertThat(c.whenClear()).isCompleted();
        gate.release(a);
        assertThat(b.whenClear()).isCompleted();
    }

    @Test
    void shouldTouchBytesAtTheEndOfARangeButNotPastIt() {
        RangeGate.Entry a = gate.register(0, 4096);
        RangeGate.Entry b = gate.register(4095, 1);
        RangeGate.Entry c = gate.register(4096, 1);
        assertThat(b.whenClear()).isNotDone();
        assertThat(c.whenClear()).isCompleted();
        gate.release(a);
        assertThat(b.whenClear()).isCompleted();
    }
}
