package io.sluice.controller.cli;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The text {@code ovs-appctl ofproto/trace} prints, read into what {@code sluice trace} reports: for each pass of
 * the packet through the pipeline (the first, then each resumption after a conntrack recirculation), the tables it
 * visited in order with the flow that matched in each (its priority and cookie, or none: a table miss without a
 * flow) and that flow's actions as the trace lists them, and the pass's {@code Datapath actions}.
 *
 * <p>Only the lines it knows are read; anything else (OVS's own remarks, {@code Final flow}, {@code Megaflow}) is
 * ignored, so a newer OVS that adds lines does not break it.
 */
record OfprotoTrace(List<Pass> passes) {
  private static final Pattern STEP = Pattern.compile(
      "^(\\s*)(\\d+)\\. (?:(.*?),? ?)?priority (\\d+)(?:, cookie (0x[0-9a-fA-F]+))?\\s*$");
  private static final Pattern NO_MATCH = Pattern.compile("^(\\s*)(\\d+)\\. No match\\.?.*$");
  private static final Pattern BRIDGE = Pattern.compile("^\\s*bridge\\(\"([^\"]+)\"\\)\\s*$");
  private static final String DATAPATH = "Datapath actions: ";

  OfprotoTrace {
    passes = List.copyOf(passes);
  }

  /**
   * One table visited: {@code cookie} is null when no flow matched (OVS printed "No match"); {@code depth} is the
   * indentation OVS gave it (a table reached by {@code resubmit} is indented under the flow that resubmitted).
   */
  record Step(String bridge, int table, String match, int priority, Long cookie, List<String> actions, int depth) {
    Step {
      actions = List.copyOf(actions);
    }

    boolean matched() {
      return cookie != null;
    }
  }

  /** One pass: {@code resumed} is OVS's header of a resumption (e.g. "recirc(0x1) - resume conntrack ..."), or null. */
  record Pass(String resumed, List<Step> steps, String datapathActions) {
    Pass {
      steps = List.copyOf(steps);
    }
  }

  /** The datapath actions of the last pass: what finally happens to the packet (null if OVS printed none). */
  String finalActions() {
    for (int i = passes.size() - 1; i >= 0; i--) {
      if (passes.get(i).datapathActions() != null) {
        return passes.get(i).datapathActions();
      }
    }
    return null;
  }

  /** Every step of every pass, in order. */
  List<Step> steps() {
    List<Step> all = new ArrayList<>();
    passes.forEach(p -> all.addAll(p.steps()));
    return all;
  }

  /**
   * Reads a trace.
   *
   * @throws IllegalArgumentException if the text has no pipeline at all (not a trace: an error message)
   */
  static OfprotoTrace parse(String text) {
    List<Pass> passes = new ArrayList<>();
    String resumed = null;
    String bridge = null;
    List<Step> steps = new ArrayList<>();
    String datapath = null;
    // the step being read, with its actions so far
    int table = -1;
    String match = null;
    int priority = 0;
    Long cookie = null;
    int depth = 0;
    List<String> actions = new ArrayList<>();
    boolean seenBridge = false;
    String[] lines = text.split("\n", -1);
    for (int i = 0; i < lines.length; i++) {
      String line = lines[i];
      if (line.startsWith("=====")) {
        if (table >= 0) {
          steps.add(new Step(bridge, table, match, priority, cookie, actions, depth));
          table = -1;
        }
        if (steps.isEmpty() && datapath == null) {
          continue; // the closing line of a resumption's header
        }
        passes.add(new Pass(resumed, steps, datapath));
        steps = new ArrayList<>();
        datapath = null;
        resumed = null;
        if (i + 1 < lines.length && !lines[i + 1].isBlank() && !lines[i + 1].startsWith("=====")) {
          resumed = lines[i + 1].trim();
          i++;
        }
        continue;
      }
      Matcher b = BRIDGE.matcher(line);
      Matcher s = STEP.matcher(line);
      Matcher n = NO_MATCH.matcher(line);
      boolean isStep = s.matches() || n.matches();
      if (isStep || b.matches() || line.startsWith(DATAPATH) || line.startsWith("Final flow:")
          || line.startsWith("Megaflow:")) {
        if (table >= 0) {
          steps.add(new Step(bridge, table, match, priority, cookie, actions, depth));
          table = -1;
        }
      }
      if (b.matches()) {
        bridge = b.group(1);
        seenBridge = true;
      } else if (s.matches()) {
        depth = s.group(1).length();
        table = Integer.parseInt(s.group(2));
        match = s.group(3) == null ? "" : s.group(3);
        priority = Integer.parseInt(s.group(4));
        cookie = s.group(5) == null ? 0L : Long.parseUnsignedLong(s.group(5).substring(2), 16);
        actions = new ArrayList<>();
      } else if (n.matches()) {
        depth = n.group(1).length();
        table = Integer.parseInt(n.group(2));
        match = null;
        priority = -1;
        cookie = null;
        actions = new ArrayList<>();
      } else if (line.startsWith(DATAPATH)) {
        datapath = line.substring(DATAPATH.length()).trim();
      } else if (table >= 0 && !line.isBlank() && !line.trim().startsWith("-")) {
        actions.add(line.trim());
      }
    }
    if (table >= 0) {
      steps.add(new Step(bridge, table, match, priority, cookie, actions, depth));
    }
    if (!steps.isEmpty() || datapath != null) {
      passes.add(new Pass(resumed, steps, datapath));
    }
    if (!seenBridge || passes.isEmpty()) {
      throw new IllegalArgumentException("not an ofproto/trace output: " + firstLine(text));
    }
    return new OfprotoTrace(resumedOnTheirBridge(passes));
  }

  /**
   * A resumption runs on the bridge whose ct() recirculated, the one of the previous pass's last step, but OVS 3.1
   * heads it with the bridge the trace started on (a packet that crossed a patch port into another bridge is shown
   * resuming "on" the first one, with that bridge's in_port). The steps get the bridge they really ran on.
   */
  private static List<Pass> resumedOnTheirBridge(List<Pass> passes) {
    List<Pass> out = new ArrayList<>();
    String previous = null;
    for (Pass p : passes) {
      Pass fixed = p;
      if (p.resumed() != null && previous != null && !p.steps().isEmpty()) {
        String shown = p.steps().get(0).bridge();
        String real = previous;
        if (shown != null && !shown.equals(real)) {
          List<Step> steps = new ArrayList<>();
          for (Step s : p.steps()) {
            steps.add(shown.equals(s.bridge())
                ? new Step(real, s.table(), s.match(), s.priority(), s.cookie(), s.actions(), s.depth()) : s);
          }
          fixed = new Pass(p.resumed(), steps, p.datapathActions());
        }
      }
      if (!fixed.steps().isEmpty()) {
        previous = fixed.steps().get(fixed.steps().size() - 1).bridge();
      }
      out.add(fixed);
    }
    return out;
  }

  private static String firstLine(String text) {
    String t = text.strip();
    int nl = t.indexOf('\n');
    return nl < 0 ? t : t.substring(0, nl);
  }

  /**
   * The datapath port numbers the actions output to: bare numbers in the top-level list, and those inside
   * {@code clone(...)} (a copy sent on) — not those in {@code userspace(...)} or in conntrack's arguments.
   */
  static List<Long> outputs(String datapathActions) {
    List<Long> out = new ArrayList<>();
    if (datapathActions == null) {
      return out;
    }
    int depth = 0;
    StringBuilder token = new StringBuilder();
    String context = "";
    List<String> stack = new ArrayList<>();
    for (int i = 0; i <= datapathActions.length(); i++) {
      char c = i < datapathActions.length() ? datapathActions.charAt(i) : ',';
      if (c == '(') {
        stack.add(token.toString().trim());
        context = token.toString().trim();
        token.setLength(0);
        depth++;
      } else if (c == ')') {
        flush(token, depth, context, out);
        stack.remove(stack.size() - 1);
        context = stack.isEmpty() ? "" : stack.get(stack.size() - 1);
        depth--;
      } else if (c == ',') {
        flush(token, depth, context, out);
      } else {
        token.append(c);
      }
    }
    return out;
  }

  private static void flush(StringBuilder token, int depth, String context, List<Long> out) {
    String t = token.toString().trim();
    token.setLength(0);
    if (t.matches("[0-9]+") && (depth == 0 || "clone".equals(context))) {
      out.add(Long.parseLong(t));
    }
  }
}
