package io.parityd.link;

import java.util.Objects;
import java.util.UUID;

/**
 * What a controller tells the front right after their handshake: the array it serves and what the
 * front exports (the front touches no member, so it learns this here).
 */
public record ArrayInfo(UUID arrayUuid, String name, long size, String description) implements LinkMessage {

    public ArrayInfo {
        Objects.requireNonNull(arrayUuid, "arrayUuid");
        LinkStrings.check("name", name);
        LinkStrings.check("description", description);
        if (size < 0) {
            throw new IllegalArgumentException("negative volume size " + size);
        }
    }

    @Override
    public MessageType type() {
        return MessageType.ARRAY_INFO;
    }
}
