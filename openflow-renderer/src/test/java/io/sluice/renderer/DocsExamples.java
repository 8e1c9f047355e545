package io.sluice.renderer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Reads the worked examples of docs/pipeline.md, so tests hold the document to what the compiler prints. */
public final class DocsExamples {
  private DocsExamples() { }

  /**
   * The lines of the first fenced block after the line {@code <!-- example: NAME -->} in docs/pipeline.md, each without
   * a leading line number (" 1 cookie=..." reads " cookie=...").
   */
  public static List<String> block(String name) throws IOException {
    Path doc = Path.of("..", "docs", "pipeline.md");
    List<String> lines = Files.readAllLines(doc);
    int at = lines.indexOf("<!-- example: " + name + " -->");
    if (at < 0) {
      throw new IllegalStateException("docs/pipeline.md has no <!-- example: " + name + " --> marker");
    }
    int start = at + 1;
    while (!lines.get(start).startsWith("```")) {
      start++;
    }
    List<String> out = new ArrayList<>();
    for (int i = start + 1; !lines.get(i).startsWith("```"); i++) {
      out.add(lines.get(i).replaceFirst("^ ?\\d+ ", " "));
    }
    return out;
  }
}
