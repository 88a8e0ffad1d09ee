/**
 * TLS contexts from certificate directories, for the NBD server (STARTTLS) and for the internal
 * links (mutual TLS): file checks with messages that name the fix, and Netty's JDK-backed
 * {@code SslContext}s. No cryptography of our own.
 */
package io.parityd.tls;
