package io.sluice.watcher.manifest;

import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.ObjectCodec;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.core.io.IOContext;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLParser;
import java.io.FilterReader;
import java.io.IOException;
import java.io.Reader;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.events.ScalarEvent;
import org.yaml.snakeyaml.resolver.Resolver;

/**
 * Jackson's YAML factory whose parsers skip SnakeYAML's regular expressions for plain scalars that no implicit type
 * can match. Jackson asks SnakeYAML's {@link Resolver} for the type of every plain scalar; the resolver picks its
 * candidate patterns by the scalar's first character and runs them. Most scalars in a manifest ({@code pod-7},
 * {@code web}, {@code Running}) start with a character that has no candidate, or are words that the literal
 * alternatives (booleans, nulls) do not list; for those the answer is "string" without running a pattern. The table is
 * read from SnakeYAML's own resolver at start; every scalar it cannot decide that way goes to Jackson as before.
 *
 * <p>Hostile input is bounded here too: a scalar longer than {@code maxScalarChars} fails the parse (SnakeYAML hands
 * over whole scalars, so Jackson's own string limit is checked here for every scalar), SnakeYAML's document size and
 * nesting limits are set from the caller's, and the character source checks {@link ParseBudget} before each read,
 * so a parse gives up at its deadline or when its source stops, whatever SnakeYAML is scanning.
 */
final class FastYamlFactory extends YAMLFactory {
  private static final long serialVersionUID = 1L;
  private final int maxScalarChars;

  /** Without limits beyond Jackson's and SnakeYAML's defaults. */
  FastYamlFactory() {
    super();
    this.maxScalarChars = Integer.MAX_VALUE;
  }

  /**
   * @param maxScalarChars longest scalar accepted
   * @param maxDepth deepest nesting of mappings and sequences
   * @param maxDocumentChars most characters in one YAML document (SnakeYAML's code point limit)
   */
  FastYamlFactory(int maxScalarChars, int maxDepth, int maxDocumentChars) {
    super(builder(maxScalarChars, maxDepth, maxDocumentChars));
    this.maxScalarChars = maxScalarChars;
  }

  private static com.fasterxml.jackson.dataformat.yaml.YAMLFactoryBuilder builder(int maxScalarChars, int maxDepth,
      int maxDocumentChars) {
    LoaderOptions lo = new LoaderOptions();
    lo.setCodePointLimit(maxDocumentChars);
    lo.setNestingDepthLimit(maxDepth);
    // The builder starts from no YAML features, unlike new YAMLFactory(): keep an empty document a null
    return YAMLFactory.builder().loaderOptions(lo).enable(YAMLParser.Feature.EMPTY_STRING_AS_NULL)
        .streamReadConstraints(StreamReadConstraints.builder().maxStringLength(maxScalarChars)
            .maxNestingDepth(maxDepth).build());
  }

  @Override
  protected YAMLParser _createParser(byte[] data, int offset, int len, IOContext ctxt) throws IOException {
    return new Parser(ctxt, _parserFeatures, _yamlParserFeatures, _loaderOptions, _objectCodec,
        new BudgetedReader(_createReader(data, offset, len, null, ctxt)), maxScalarChars);
  }

  /** Checks the current {@link ParseBudget} before every read SnakeYAML makes (it reads about 1,024 chars at a time). */
  private static final class BudgetedReader extends FilterReader {
    BudgetedReader(Reader in) {
      super(in);
    }

    @Override
    public int read() throws IOException {
      ParseBudget.check();
      return super.read();
    }

    @Override
    public int read(char[] buf, int off, int len) throws IOException {
      ParseBudget.check();
      return super.read(buf, off, len);
    }
  }

  private static final class Parser extends YAMLParser {
    private final int maxScalarChars;

    Parser(IOContext ctxt, int parserFeatures, int formatFeatures, LoaderOptions loaderOptions, ObjectCodec codec,
           Reader reader, int maxScalarChars) {
      super(ctxt, parserFeatures, formatFeatures, loaderOptions, codec, reader);
      this.maxScalarChars = maxScalarChars;
    }

    @Override
    protected JsonToken _decodeScalar(ScalarEvent scalar) throws IOException {
      if (scalar.getValue().length() > maxScalarChars) {
        throw new StreamConstraintsException("a scalar of " + scalar.getValue().length() + " characters, more than "
            + "the limit of " + maxScalarChars, getCurrentLocation());
      }
      String tag = scalar.getTag();
      if (tag == null || tag.equals("!")) {
        String value = scalar.getValue();
        if (!value.isEmpty() && (!scalar.getImplicit().canOmitTagInPlainScalar() || PlainScalars.isString(value))) {
          // What YAMLParser does for a scalar the resolver types as a string.
          _textValue = value;
          _cleanedTextValue = null;
          return JsonToken.VALUE_STRING;
        }
      }
      return super._decodeScalar(scalar);
    }
  }

  /** SnakeYAML's implicit resolvers, as far as they are literal word lists. */
  static final class PlainScalars extends Resolver {
    /** A literal alternative list and its length limit; {@code longest}: its longest word. */
    private record Words(Set<String> words, int limit, int longest) {
      Words(Set<String> words, int limit) {
        this(words, limit, words.stream().mapToInt(String::length).max().orElse(0));
      }

      boolean lists(String value) {
        return value.length() <= limit && value.length() <= longest && words.contains(value);
      }
    }

    /** Per first character below 128: null if no resolver, REGEX if one is a real pattern, else its word lists. */
    private static final List<Words> REGEX = List.of();
    private static final Object[] TABLE = new Object[128];
    /** Resolvers for every first character (SnakeYAML's null key). */
    private static final List<Words> ANY;
    /** False if the resolver table could not be read as expected: then everything goes to the resolver. */
    private static final boolean USABLE;

    private static final Pattern TUPLE = Pattern.compile("Tuple tag=\\S+ regexp=(\\S+|\\^\\(\\?:[^)]*\\)\\$) limit=(\\d+)");
    private static final Pattern ALTERNATIVES = Pattern.compile("\\^\\(\\?:((?:[A-Za-z~ !&]|\\\\\\*)+(?:\\|(?:[A-Za-z~ !&]|\\\\\\*)+)*)\\)\\$");

    private Map<?, ?> resolvers() {
      Object m = yamlImplicitResolvers;
      return (Map<?, ?>) m;
    }

    /**
     * The patterns SnakeYAML tries for scalars starting with a digit, sign or dot, as of SnakeYAML 2.x. A scalar with a
     * character none of them can match, or with two dots (each allows one at most), matches none of them.
     */
    private static final Set<String> NUMERIC_PATTERNS = Set.of(Resolver.INT.pattern(), Resolver.FLOAT.pattern(),
        Resolver.TIMESTAMP.pattern());
    private static final String NUMERIC_ALPHABET = "0123456789-+_.:abcdefABCDEFxXeEinfINFtTZ \t";
    private static final Words NUMERIC = new Words(Set.of(), -1);
    private static final boolean[] IN_NUMERIC = new boolean[128];

    static {
      for (char c : NUMERIC_ALPHABET.toCharArray()) {
        IN_NUMERIC[c] = true;
      }
      IN_NUMERIC['\t'] = true;
    }

    /** The word lists of one resolver list (NUMERIC for a known number pattern), or REGEX for any other pattern. */
    private static List<Words> parse(Object tuples) {
      List<Words> out = new ArrayList<>();
      for (Object t : (List<?>) tuples) {
        String text = String.valueOf(t);
        boolean numeric = false;
        for (String p : NUMERIC_PATTERNS) {
          if (text.matches("Tuple tag=\\S+ regexp=" + Pattern.quote(p) + " limit=\\d+")) {
            numeric = true;
          }
        }
        if (numeric) {
          out.add(NUMERIC);
          continue;
        }
        Matcher m = TUPLE.matcher(text);
        if (!m.matches()) {
          return REGEX;
        }
        String regexp = m.group(1);
        int limit = Integer.parseInt(m.group(2));
        Set<String> words = new HashSet<>();
        if (regexp.equals("^$")) {
          words.add("");
        } else {
          Matcher a = ALTERNATIVES.matcher(regexp);
          if (!a.matches()) {
            return REGEX;
          }
          for (String w : a.group(1).split("\\|", -1)) {
            words.add(w.replace("\\*", "*"));
          }
        }
        out.add(new Words(words, limit));
      }
      return out;
    }

    /** False if no INT, FLOAT or TIMESTAMP pattern can match. */
    private static boolean numericCandidate(String value) {
      int dots = 0;
      for (int i = 0; i < value.length(); i++) {
        char c = value.charAt(i);
        if (c >= 128 || !IN_NUMERIC[c] || c == '.' && ++dots > 1) {
          return false;
        }
      }
      return true;
    }

    static {
      Map<?, ?> resolvers = new PlainScalars().resolvers();
      boolean usable = true;
      List<Words> any = REGEX;
      for (Map.Entry<?, ?> e : resolvers.entrySet()) {
        List<Words> words = parse(e.getValue());
        if (e.getKey() == null) {
          any = words;
        } else if (e.getKey() instanceof Character c && c < 128) {
          TABLE[c] = words;
        } else {
          usable = false; // a resolver for a non-ASCII first character: not expected, so not handled
        }
      }
      ANY = any;
      USABLE = usable && any != REGEX;
    }

    /** True if the resolver would type this (non-empty, plain) scalar as a string. */
    @SuppressWarnings("unchecked")
    static boolean isString(String value) {
      if (!USABLE) {
        return false;
      }
      char c = value.charAt(0);
      if (c >= 128) {
        return false;
      }
      List<Words> first = (List<Words>) TABLE[c];
      if (first == REGEX) {
        return false;
      }
      if (first != null && listed(first, value)) {
        return false;
      }
      return !listed(ANY, value);
    }

    private static boolean listed(List<Words> lists, String value) {
      for (Words w : lists) {
        if (w == NUMERIC ? numericCandidate(value) : w.lists(value)) {
          return true;
        }
      }
      return false;
    }
  }
}
