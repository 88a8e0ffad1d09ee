package io.parityd.raid;

import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import java.util.OptionalLong;

/**
 * What {@code parityd create} was asked for, unvalidated: {@link ArrayCreator} checks every field
 * and refuses with a message naming the option.
 *
 * @param name       array name, also the NBD export name
 * @param level      RAID level ({@code --level}); only 5 is accepted for now
 * @param chunkSize  bytes per chunk ({@code --chunk})
 * @param memberSize size in bytes for members that do not exist yet ({@code --size})
 * @param members    member paths; a member's slot is its position here
 * @param force      overwrite members that already hold a parityd superblock ({@code --force})
 * @param spares     hot spares ({@code --spare}), created and checked like members
 */
public record CreateSpec(String name, int level, int chunkSize, OptionalLong memberSize, List<Path> members,
                         boolean force, List<Path> spares) {

    public CreateSpec {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(memberSize, "memberSize");
        members = List.copyOf(members);
        spares = List.copyOf(spares);
    }

    /** Without spares. */
    public CreateSpec(String name, int level, int chunkSize, OptionalLong memberSize, List<Path> members, boolean force) {
        this(name, level, chunkSize, memberSize, members, force, List.of());
    }
}
