// The real Trino JDBC driver against the SQL gateway, run by gateway.e2e.ts (through real-clients.ts) with the JDK's source launcher:
//   TRINO_PASSWORD=... java -cp trino-jdbc-476.jar JdbcProbe.java <jdbc url> <step>...
// Steps (each a keyword and its arguments):
//   query <sql>                                      Statement.executeQuery
//   prepared <sql> <n> <type:value> x n              PreparedStatement with n parameters (varchar, bigint, date, timestamp)
//   tables <catalog> <schema pattern> <table pattern>   DatabaseMetaData.getTables
//   columns <catalog> <schema pattern> <table pattern> <column pattern>   DatabaseMetaData.getColumns
// Prints one JSON object per step on its own line: {"columns":[...],"rows":[[...]]} or {"error":{...}}.
// The password comes from the environment, never the command line (visible to every user in ps).

import java.sql.Array;
import java.sql.Connection;
import java.sql.Date;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;

public class JdbcProbe {
    public static void main(String[] args) throws Exception {
        Properties properties = new Properties();
        properties.setProperty("password", System.getenv("TRINO_PASSWORD"));
        try (Connection connection = DriverManager.getConnection(args[0], properties)) {
            for (int i = 1; i < args.length; ) {
                String step = args[i++];
                StringBuilder out = new StringBuilder();
                try {
                    switch (step) {
                        case "query" -> {
                            try (var statement = connection.createStatement(); ResultSet rs = statement.executeQuery(args[i++])) {
                                writeResultSet(rs, out);
                            }
                        }
                        case "prepared" -> {
                            String sql = args[i++];
                            int count = Integer.parseInt(args[i++]);
                            List<String> parameters = List.of(args).subList(i, i + count);
                            i += count;
                            try (PreparedStatement statement = connection.prepareStatement(sql)) {
                                for (int p = 0; p < parameters.size(); p++) bind(statement, p + 1, parameters.get(p));
                                try (ResultSet rs = statement.executeQuery()) {
                                    writeResultSet(rs, out);
                                }
                            }
                        }
                        case "tables" -> {
                            try (ResultSet rs = connection.getMetaData().getTables(args[i++], args[i++], args[i++], null)) {
                                writeResultSet(rs, out);
                            }
                        }
                        case "columns" -> {
                            try (ResultSet rs = connection.getMetaData().getColumns(args[i++], args[i++], args[i++], args[i++])) {
                                writeResultSet(rs, out);
                            }
                        }
                        default -> throw new IllegalArgumentException("unknown step " + step);
                    }
                }
                catch (SQLException e) {
                    out.setLength(0);
                    out.append("{\"error\":{\"message\":").append(json(e.getMessage()))
                            .append(",\"sqlState\":").append(json(e.getSQLState()))
                            .append(",\"errorCode\":").append(e.getErrorCode()).append("}}");
                }
                System.out.println(out);
            }
        }
    }

    /** `type:value`: the JDBC setter a client would call for a value of that SQL type. */
    private static void bind(PreparedStatement statement, int index, String parameter) throws SQLException {
        int colon = parameter.indexOf(':');
        String type = parameter.substring(0, colon);
        String value = parameter.substring(colon + 1);
        switch (type) {
            case "varchar" -> statement.setString(index, value);
            case "bigint" -> statement.setLong(index, Long.parseLong(value));
            case "date" -> statement.setDate(index, Date.valueOf(value));
            case "timestamp" -> statement.setTimestamp(index, Timestamp.valueOf(value));
            default -> throw new IllegalArgumentException("unknown parameter type " + type);
        }
    }

    private static void writeResultSet(ResultSet rs, StringBuilder out) throws SQLException {
        ResultSetMetaData meta = rs.getMetaData();
        out.append("{\"columns\":[");
        for (int c = 1; c <= meta.getColumnCount(); c++) {
            if (c > 1) out.append(',');
            out.append("{\"name\":").append(json(meta.getColumnLabel(c))).append(",\"type\":").append(json(meta.getColumnTypeName(c))).append('}');
        }
        out.append("],\"rows\":[");
        boolean first = true;
        while (rs.next()) {
            out.append(first ? "[" : ",[");
            first = false;
            for (int c = 1; c <= meta.getColumnCount(); c++) {
                if (c > 1) out.append(',');
                out.append(value(rs.getObject(c)));
            }
            out.append(']');
        }
        out.append("]}");
    }

    private static String value(Object value) throws SQLException {
        if (value == null) return "null";
        if (value instanceof Number || value instanceof Boolean) return value.toString();
        if (value instanceof Array array) {
            List<String> items = new ArrayList<>();
            for (Object item : (Object[]) array.getArray()) items.add(value(item));
            return "[" + String.join(",", items) + "]";
        }
        return json(value.toString());
    }

    private static String json(String text) {
        if (text == null) return "null";
        StringBuilder out = new StringBuilder("\"");
        for (char ch : text.toCharArray()) {
            switch (ch) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                default -> out.append(ch < 0x20 ? String.format("\\u%04x", (int) ch) : String.valueOf(ch));
            }
        }
        return out.append('"').toString();
    }
}
