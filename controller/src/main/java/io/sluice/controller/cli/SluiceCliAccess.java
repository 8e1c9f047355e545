package io.sluice.controller.cli;

import java.util.Set;
import java.util.TreeSet;
import picocli.CommandLine;

/** The option names of {@code sluice run}, for tools and tests that check configuration against the CLI. */
public final class SluiceCliAccess {
  private SluiceCliAccess() {
  }

  public static Set<String> runFlags() {
    Set<String> out = new TreeSet<>();
    new CommandLine(new SluiceCli()).getSubcommands().get("run").getCommandSpec().options()
        .forEach(o -> out.addAll(java.util.List.of(o.names())));
    return out;
  }
}
