package io.sluice.controller.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code sluice}: the command line. Subcommands do the work. */
@Command(name = "sluice", mixinStandardHelpOptions = true, versionProvider = SluiceCli.Version.class,
    description = "Sluice: an SDN controller that turns Kubernetes intent into OpenFlow for Open vSwitch.",
    subcommands = {RunCommand.class, CompileCommand.class, ExplainCommand.class, TraceCommand.class, TestCommand.class, AdviseCommand.class,
        CommandLine.HelpCommand.class})
public final class SluiceCli implements Runnable {
  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(System.out);
  }

  public static void main(String[] args) {
    int code = new CommandLine(new SluiceCli()).execute(args);
    if (code != 0 || args.length == 0 || !"run".equals(args[0])) {
      System.exit(code);
    }
  }

  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      String v = SluiceCli.class.getPackage().getImplementationVersion();
      return new String[] {"sluice " + (v == null ? "development build" : v)};
    }
  }
}
