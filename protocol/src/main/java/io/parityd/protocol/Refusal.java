package io.parityd.protocol;

/** Why a request is refused before it reaches storage: the errno for the client, the cause for the log. */
public record Refusal(NbdError error, String reason) {
}
