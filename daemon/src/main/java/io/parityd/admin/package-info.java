/**
 * The local admin socket: a Unix domain socket the running daemon listens on, the small JSON
 * protocol over it, and the client the operator commands ({@code status}, {@code fail},
 * {@code replace}, {@code add-spare}, {@code scrub}) use. What the commands do to the array
 * lives behind {@link io.parityd.admin.ArrayControl}; no RAID logic lives here.
 */
package io.parityd.admin;
