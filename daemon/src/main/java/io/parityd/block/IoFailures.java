package io.parityd.block;

import java.io.Closeable;
import java.io.IOException;
import java.util.List;

/**
 * Collects the failures of a step run on several devices (flush every member, close every
 * member) so that every device gets the step even when an earlier one failed, and the caller
 * then sees the first failure with the others attached as suppressed — as Agrona's
 * {@code CloseHelper.closeAll} does. Never used to swallow an error: {@link #throwIfAny()} ends
 * every use.
 */
public final class IoFailures {

    private IOException first;

    public void add(IOException failure) {
        if (first == null) {
            first = failure;
        } else if (failure != first) {
            first.addSuppressed(failure);
        }
    }

    public boolean any() {
        return first != null;
    }

    public void throwIfAny() throws IOException {
        if (first != null) {
            throw first;
        }
    }

    /** Closes every item, last first (reverse of the order they were opened in), keeping every failure. */
    public static void closeAll(List<? extends Closeable> items) throws IOException {
        IoFailures failures = new IoFailures();
        for (int i = items.size() - 1; i >= 0; i--) {
            Closeable item = items.get(i);
            if (item == null) {
                continue;
            }
            try {
                item.close();
            } catch (IOException e) {
                failures.add(e);
            }
        }
        failures.throwIfAny();
    }
}
