/**
 * What parityd exports to Prometheus (DESIGN.md "Observability and operations"): the meters, each
 * registered once, and the HTTP endpoint that serves them. Nothing here changes the array or
 * decides anything; values are read from what the front observes and from each process's status.
 */
package io.parityd.metrics;
