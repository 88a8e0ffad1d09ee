/**
 * The front: the Netty NBD server that accepts clients, holds every request whole and hands it
 * to a controller, then replies. It never touches member devices and does no disk I/O on its
 * event loops.
 */
package io.parityd.front;
