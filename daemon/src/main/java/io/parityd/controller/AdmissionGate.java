package io.parityd.controller;

import java.util.List;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;

/**
 * An {@link Admission} a controller owns and flips by hand: {@link #pause} when it must stop new
 * requests (its NVRAM is full), {@link #resume} when it can take them again. Both are idempotent
 * and thread-safe; listeners run on the calling thread, after the change, under no lock.
 *
 * <p>One gate holds one reason: a second {@code pause} while closed keeps the first reason, and
 * one {@code resume} opens it. A controller with several independent reasons keeps one gate per
 * reason and combines them.
 */
public final class AdmissionGate implements Admission {

    /** Why the gate is closed; null while it is open. */
    private final AtomicReference<String> closedBecause = new AtomicReference<>();
    private final List<Runnable> listeners = new CopyOnWriteArrayList<>();

    /** Closes the gate; does nothing if it is already closed. */
    public void pause(String reason) {
        Objects.requireNonNull(reason, "reason");
        if (closedBecause.compareAndSet(null, reason)) {
            notifyListeners();
        }
    }

    /** Opens the gate; does nothing if it is already open. */
    public void resume() {
        if (closedBecause.getAndSet(null) != null) {
            notifyListeners();
        }
    }

    @Override
    public boolean open() {
        return closedBecause.get() == null;
    }

    @Override
    public void onChange(Runnable listener) {
        listeners.add(Objects.requireNonNull(listener, "listener"));
    }

    @Override
    public String reason() {
        String reason = closedBecause.get();
        return reason == null ? "" : reason;
    }

    /** Every listener runs even if one throws; the first failure is rethrown with the others suppressed. */
    private void notifyListeners() {
        RuntimeException failure = null;
        for (Runnable listener : listeners) {
            try {
                listener.run();
            } catch (RuntimeException e) {
                if (failure == null) {
                    failure = e;
                } else {
                    failure.addSuppressed(e);
                }
            }
        }
        if (failure != null) {
            throw failure;
        }
    }

    @Override
    public String toString() {
        String reason = closedBecause.get();
        return reason == null ? "AdmissionGate[open]" : "AdmissionGate[closed: " + reason + "]";
    }
}
