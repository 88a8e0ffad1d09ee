/**
 * The NBD protocol as a server speaks it: wire constants, messages, the Netty codecs and
 * handshake that turn bytes into requests and replies into bytes (doc/proto.md of
 * NetworkBlockDevice/nbd), and the bounds on what a client can make a server hold or log.
 * Nothing here touches storage: what a request does to a volume is decided by whoever installs
 * the transmission handler.
 */
package io.parityd.protocol;
