// Writes, as JSON on stdout, what the TypeScript parser needs from the Trino grammar compiled into
// io.trino:trino-grammar: serialized ATNs, rule names, vocabulary, channel and mode names. Read from the
// generated classes themselves, so the TypeScript side interprets exactly the automaton Trino runs.
// Run by `npm run grammar` (control-plane/src/gateway/sql/grammar-cli.ts) as a single-file program:
//   java -cp trino-grammar-476.jar:antlr4-runtime-4.13.2.jar ExtractTrinoGrammar.java
import io.trino.grammar.sql.SqlBaseLexer;
import io.trino.grammar.sql.SqlBaseParser;
import org.antlr.v4.runtime.RuntimeMetaData;
import org.antlr.v4.runtime.Vocabulary;
import org.antlr.v4.runtime.atn.ATNDeserializer;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Properties;

public class ExtractTrinoGrammar
{
    public static void main(String[] args)
            throws Exception
    {
        Path jar = Path.of(SqlBaseLexer.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        Properties pom = new Properties();
        try (InputStream in = SqlBaseLexer.class.getResourceAsStream("/META-INF/maven/io.trino/trino-grammar/pom.properties")) {
            pom.load(in);
        }
        Vocabulary vocabulary = SqlBaseParser.VOCABULARY;
        int maxTokenType = vocabulary.getMaxTokenType();
        String[] literalNames = new String[maxTokenType + 1];
        String[] symbolicNames = new String[maxTokenType + 1];
        for (int type = 0; type <= maxTokenType; type++) {
            literalNames[type] = vocabulary.getLiteralName(type);
            symbolicNames[type] = vocabulary.getSymbolicName(type);
        }

        StringBuilder json = new StringBuilder();
        json.append("{\n");
        json.append("  \"source\": {\n");
        json.append("    \"maven\": ").append(string(pom.getProperty("groupId") + ":" + pom.getProperty("artifactId") + ":" + pom.getProperty("version"))).append(",\n");
        json.append("    \"jarSha256\": ").append(string(sha256(jar))).append(",\n");
        json.append("    \"antlrRuntime\": ").append(string(RuntimeMetaData.VERSION)).append(",\n");
        json.append("    \"grammarFileName\": ").append(string(SqlBaseParser.class.getDeclaredConstructor(org.antlr.v4.runtime.TokenStream.class).newInstance((Object) null).getGrammarFileName())).append("\n");
        json.append("  },\n");
        json.append("  \"vocabulary\": {\n");
        json.append("    \"literalNames\": ").append(strings(literalNames)).append(",\n");
        json.append("    \"symbolicNames\": ").append(strings(symbolicNames)).append("\n");
        json.append("  },\n");
        json.append("  \"lexer\": {\n");
        json.append("    \"ruleNames\": ").append(strings(SqlBaseLexer.ruleNames)).append(",\n");
        json.append("    \"channelNames\": ").append(strings(SqlBaseLexer.channelNames)).append(",\n");
        json.append("    \"modeNames\": ").append(strings(SqlBaseLexer.modeNames)).append(",\n");
        json.append("    \"serializedATN\": ").append(atn(SqlBaseLexer._serializedATN)).append("\n");
        json.append("  },\n");
        json.append("  \"parser\": {\n");
        json.append("    \"ruleNames\": ").append(strings(SqlBaseParser.ruleNames)).append(",\n");
        json.append("    \"serializedATN\": ").append(atn(SqlBaseParser._serializedATN)).append("\n");
        json.append("  }\n");
        json.append("}\n");
        System.out.print(json);
    }

    // Java targets store the ATN as 16-bit chars; the JavaScript runtimes take the decoded 32-bit integers.
    private static String atn(String serialized)
    {
        int[] values = ATNDeserializer.decodeIntsEncodedAs16BitWords(serialized.toCharArray(), true);
        StringBuilder out = new StringBuilder("[");
        for (int i = 0; i < values.length; i++) {
            out.append(i == 0 ? "" : ",").append(values[i]);
        }
        return out.append("]").toString();
    }

    private static String sha256(Path file)
            throws Exception
    {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file)));
    }

    private static String strings(String[] values)
    {
        StringBuilder out = new StringBuilder("[");
        for (int i = 0; i < values.length; i++) {
            out.append(i == 0 ? "" : ", ").append(values[i] == null ? "null" : string(values[i]));
        }
        return out.append("]").toString();
    }

    private static String string(String value)
    {
        StringBuilder out = new StringBuilder("\"");
        for (char c : value.toCharArray()) {
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                default -> {
                    if (c < 0x20 || c > 0x7e) {
                        out.append(String.format("\\u%04x", (int) c));
                    }
                    else {
                        out.append(c);
                    }
                }
            }
        }
        return out.append("\"").toString();
    }
}
