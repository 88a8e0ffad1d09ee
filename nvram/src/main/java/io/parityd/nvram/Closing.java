package io.parityd.nvram;

import java.io.IOException;

/** Closes several things in order and keeps every failure, the first thrown with the rest suppressed. */
final class Closing {

    /** One thing to close. */
    @FunctionalInterface
    interface Step {
        void run() throws IOException;
    }

    private Closing() {
    }

    static void closeAll(Step... steps) throws IOException {
        Throwable first = null;
        for (Step step : steps) {
            try {
                step.run();
            } catch (IOException | RuntimeException e) {
                if (first == null) {
                    first = e;
                } else {
                    first.addSuppressed(e);
                }
            }
        }
        if (first instanceof IOException io) {
            throw io;
        }
        if (first instanceof RuntimeException re) {
            throw re;
        }
    }
}
