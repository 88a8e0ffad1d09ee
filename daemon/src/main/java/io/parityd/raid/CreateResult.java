package io.parityd.raid;

import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import java.util.UUID;

/**
 * An array {@link ArrayCreator} made.
 *
 * @param geometry    its shape, as written to every member
 * @param members     member paths in slot order (as given)
 * @param memberUuids each member's UUID, in slot order
 * @param warnings    sentences the CLI should print (unused space, ignored {@code --size},
 *                    overwritten superblocks); empty when there is nothing to say
 */
public record CreateResult(ArrayGeometry geometry, List<Path> members, List<UUID> memberUuids, List<String> warnings) {

    public CreateResult {
        Objects.requireNonNull(geometry, "geometry");
        members = List.copyOf(members);
        memberUuids = List.copyOf(memberUuids);
        warnings = List.copyOf(warnings);
    }
}
