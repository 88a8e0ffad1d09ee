/**
 * The NBD protocol as a server speaks it: wire constants, messages, and the Netty codecs and
 * handshake that turn bytes into requests and replies into bytes (doc/proto.md of
 * NetworkBlockDevice/nbd). Nothing here touches storage: what a request does to a volume is
 * decided by whoever installs the transmission handler.
 */
package io.parityd.protocol;
