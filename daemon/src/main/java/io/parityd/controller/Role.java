package io.parityd.controller;

/**
 * What a controller is allowed to do in an HA pair (DESIGN.md "Failover and fencing"). The codes
 * are stable: they travel in hellos to the front and appear in status output, so a code is never
 * reused or renumbered. {@link RoleMachine} holds which moves between roles are legal.
 */
public enum Role {
    /** Waiting for the front to assign a role. */
    STARTING(0),
    /** Single-process mode, no peer. */
    STANDALONE(1),
    /** Assigned standby, copying the primary's pending journal records, not yet promotable. */
    RESYNCING(2),
    /** In sync, promotable. */
    STANDBY(3),
    /** The one writer of the members. */
    PRIMARY(4),
    /** Saw a higher epoch than its own, or was told to stand down: writes nothing until it rejoins as standby. */
    FENCED(5);

    private static final Role[] BY_CODE = byCode();

    private final int code;

    Role(int code) {
        this.code = code;
    }

    /** The stable wire and status code. */
    public int code() {
        return code;
    }

    /** The role with this code; an unknown code is refused by name. */
    public static Role fromCode(int code) {
        if (code < 0 || code >= BY_CODE.length || BY_CODE[code] == null) {
            throw new IllegalArgumentException("unknown role code " + code);
        }
        return BY_CODE[code];
    }

    private static Role[] byCode() {
        int max = 0;
        for (Role r : values()) {
            max = Math.max(max, r.code);
        }
        Role[] table = new Role[max + 1];
        for (Role r : values()) {
            table[r.code] = r;
        }
        return table;
    }
}
