package io.parityd.controller;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The gate a controller flips: idempotent, one call to every listener per real change, listeners run outside any lock. */
class AdmissionGateTest {

    private final AdmissionGate gate = new AdmissionGate();
    private final AtomicInteger changes = new AtomicInteger();

    @Test
    void shouldStartOpenWithNoReason() {
        assertThat(gate.open()).isTrue();
        assertThat(gate.reason()).isEmpty();
    }

    @Test
    void shouldNotifyOncePerRealChangeAndKeepTheFirstReason() {
        gate.onChange(changes::incrementAndGet);
        gate.pause("NVRAM full");
        gate.pause("something else");
        assertThat(gate.open()).isFalse();
        assertThat(gate.reason()).isEqualTo("NVRAM full");
        assertThat(changes).hasValue(1);

        gate.resume();
        gate.resume();
        assertThat(gate.open()).isTrue();
        assertThat(gate.reason()).isEmpty();
        assertThat(changes).hasValue(2);
    }

    @Test
    void shouldLetAListenerSeeTheNewStateAndFlipTheGateItself() {
        // A listener that calls back into the gate would deadlock if it ran under a lock.
        gate.onChange(() -> {
            if (!gate.open()) {
                changes.incrementAndGet();
                gate.resume();
            }
        });
        gate.pause("briefly");
        assertThat(changes).hasValue(1);
        assertThat(gate.open()).isTrue();
    }

    @Test
    void shouldRunEveryListenerWhenOneThrows() {
        gate.onChange(() -> {
            throw new IllegalStateException("first");
        });
        gate.onChange(changes::incrementAndGet);
        assertThatThrownBy(() -> gate.pause("full")).isInstanceOf(IllegalStateException.class).hasMessage("first");
        assertThat(changes).hasValue(1);
        assertThat(gate.open()).as("the change stands").isFalse();
    }

    @Test
    void shouldAlwaysBeOpen() {
        Admission.ALWAYS.onChange(() -> {
            throw new AssertionError("ALWAYS never changes");
        });
        assertThat(Admission.ALWAYS.open()).isTrue();
        assertThat(Admission.ALWAYS.reason()).isEmpty();
    }
}
