/**
 * Running processes: the composition of front, controller and volume into a service that
 * starts in dependency order and stops in reverse, keeping every failure. Argument parsing
 * lives in {@link io.parityd.cli}; storage and protocol logic live in their own packages.
 */
package io.parityd.service;
