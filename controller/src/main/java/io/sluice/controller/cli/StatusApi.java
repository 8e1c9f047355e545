package io.sluice.controller.cli;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;

/**
 * GETs (and the packet-out trace's POST) from a running controller's status API for the commands that ask it ({@code trace}, {@code test --live},
 * {@code advise --api}): the token of {@code --api-token-file} sent, an unreachable controller said once, the same way.
 * The answer's status is the caller's to judge.
 */
final class StatusApi {
  private StatusApi() { }

  /** The address of {@code pathAndQuery} on the API at {@code api} (trailing slashes of {@code api} dropped). */
  static URI uri(String api, String pathAndQuery) {
    try {
      return URI.create(api.replaceAll("/+$", "") + pathAndQuery);
    } catch (IllegalArgumentException e) {
      throw new TraceCommand.Failure("--api " + api + ": " + e.getMessage());
    }
  }

  /** One GET (10 s at most), or a Failure saying why there is no answer. */
  static HttpResponse<String> get(HttpClient http, String api, URI uri, Path tokenFile) {
    try {
      return http.send(authorized(HttpRequest.newBuilder(uri), tokenFile).timeout(Duration.ofSeconds(10)).build(),
          HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      throw new TraceCommand.Failure("the controller's status API at " + api + " is not reachable (" + e
          + "); give it with --api");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new TraceCommand.Failure("interrupted");
    } catch (IllegalArgumentException e) {
      throw new TraceCommand.Failure("--api " + api + ": " + e.getMessage());
    }
  }

  /**
   * One POST without a body ({@code timeout} at most), for the requests that do something (a packet-out trace), or a
   * Failure saying why there is no answer.
   */
  static HttpResponse<String> post(HttpClient http, String api, URI uri, Path tokenFile, Duration timeout) {
    try {
      return http.send(authorized(HttpRequest.newBuilder(uri), tokenFile).timeout(timeout)
              .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
    } catch (java.net.http.HttpTimeoutException e) {
      throw new TraceCommand.Failure("the controller's status API at " + api + " did not answer within "
          + timeout.toSeconds() + " s");
    } catch (IOException e) {
      throw new TraceCommand.Failure("the controller's status API at " + api + " is not reachable (" + e
          + "); give it with --api");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new TraceCommand.Failure("interrupted");
    } catch (IllegalArgumentException e) {
      throw new TraceCommand.Failure("--api " + api + ": " + e.getMessage());
    }
  }

  /** The request with the status API's bearer token read from {@code tokenFile}, if one is given. */
  static HttpRequest.Builder authorized(HttpRequest.Builder b, Path tokenFile) {
    if (tokenFile != null) {
      try {
        b.header("Authorization", "Bearer " + RunCommand.readToken(tokenFile));
      } catch (IllegalArgumentException e) {
        throw new TraceCommand.Failure("--api-token-file " + e.getMessage());
      }
    }
    return b;
  }
}
