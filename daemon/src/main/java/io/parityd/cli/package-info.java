/**
 * The command line: {@code parityd create}, {@code serve}, {@code demo}, {@code check} and
 * friends, parsed by picocli. Commands validate their arguments and call into the other
 * packages; no storage or protocol logic lives here.
 */
package io.parityd.cli;
