/**
 * Controllers: where the front hands complete requests. In single-process mode a local
 * controller runs them on the volume on its own I/O threads; the journal and the HA pair
 * grow here. No NBD framing and no sockets to clients live here.
 */
package io.parityd.controller;
