package io.parityd.controller;

/**
 * Told of every role change of a {@link RoleMachine}, so the parts that act on a role (the link
 * to the front, the journal copy, the member writer) follow it instead of polling. Called outside
 * the machine's lock, one change at a time, in the order the changes happened; it may call the
 * machine back.
 */
@FunctionalInterface
public interface RoleListener {

    /**
     * The machine moved {@code from → to} for {@code reason}; {@code epoch} is the epoch it acts
     * in after the move.
     */
    void changed(Role from, Role to, String reason, long epoch);
}
