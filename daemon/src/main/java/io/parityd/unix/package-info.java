/**
 * Unix domain socket files as the servers of parityd (the NBD front and the admin socket) claim
 * and release them: a stale file left by a dead process is replaced, a live one is not. No
 * server, protocol or access rule lives here.
 */
package io.parityd.unix;
