package uk.nhs.fhirmesh.view.fhirpath;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.IntNode;
import com.fasterxml.jackson.databind.node.TextNode;

import java.util.ArrayList;
import java.util.List;

import static uk.nhs.fhirmesh.view.fhirpath.FhirValues.bool;
import static uk.nhs.fhirmesh.view.fhirpath.FhirValues.node;

/**
 * The FHIRPath functions a view may call: the SQL-on-FHIR shareable subset, the experimental join() and
 * boundary functions, getResourceKey()/getReferenceKey(), and a few cheap neighbours (last, count, select, hasValue).
 */
enum Function
{
    WHERE("where", 1, 1, Arguments.ITERATING, true),
    SELECT("select", 1, 1, Arguments.ITERATING, false),
    EXISTS("exists", 0, 1, Arguments.ITERATING, false),
    EMPTY("empty", 0, 0, Arguments.NONE, false),
    FIRST("first", 0, 0, Arguments.NONE, true),
    LAST("last", 0, 0, Arguments.NONE, true),
    COUNT("count", 0, 0, Arguments.NONE, false),
    NOT("not", 0, 0, Arguments.NONE, false),
    HAS_VALUE("hasValue", 0, 0, Arguments.NONE, false),
    OF_TYPE("ofType", 1, 1, Arguments.TYPE, true),
    EXTENSION("extension", 1, 1, Arguments.VALUES, false),
    JOIN("join", 0, 1, Arguments.VALUES, false),
    LOW_BOUNDARY("lowBoundary", 0, 1, Arguments.VALUES, false),
    HIGH_BOUNDARY("highBoundary", 0, 1, Arguments.VALUES, false),
    GET_RESOURCE_KEY("getResourceKey", 0, 0, Arguments.NONE, false),
    GET_REFERENCE_KEY("getReferenceKey", 0, 1, Arguments.TYPE, false);

    /** How a function's arguments are read. */
    enum Arguments
    {
        NONE,
        /** Evaluated once against {@code $this}. */
        VALUES,
        /** Evaluated per focus item, which becomes {@code $this} ({@code where(use = 'official')}). */
        ITERATING,
        /** A type specifier such as {@code Quantity} or {@code FHIR.Patient}, not evaluated. */
        TYPE
    }

    private final String functionName;
    private final int minArguments;
    private final int maxArguments;
    private final Arguments arguments;
    private final boolean subsetOfFocus;

    Function(String functionName, int minArguments, int maxArguments, Arguments arguments, boolean subsetOfFocus)
    {
        this.functionName = functionName;
        this.minArguments = minArguments;
        this.maxArguments = maxArguments;
        this.arguments = arguments;
        this.subsetOfFocus = subsetOfFocus;
    }

    static Function named(String name)
    {
        for (Function function : values()) {
            if (function.functionName.equals(name)) {
                return function;
            }
        }
        throw new FhirPathException("unknown function '" + name + "'");
    }

    Arguments arguments()
    {
        return arguments;
    }

    /** Whether the result is some of the focus items themselves (so a resource stays a resource). */
    boolean subsetOfFocus()
    {
        return subsetOfFocus;
    }

    void checkArity(int count)
    {
        if (count < minArguments || count > maxArguments) {
            String expected = minArguments == maxArguments
                    ? (maxArguments == 0 ? "no arguments" : maxArguments + " argument" + (maxArguments == 1 ? "" : "s"))
                    : minArguments + " to " + maxArguments + " arguments";
            throw new FhirPathException("function '" + functionName + "' takes " + expected + " but got " + count);
        }
    }

    List<Object> evaluate(Expression.FunctionCall call, List<Object> focus, Scope scope)
    {
        return switch (this) {
            case WHERE -> where(call, focus, scope);
            case SELECT -> select(call, focus, scope);
            case EXISTS -> bool(call.arguments().isEmpty() ? !focus.isEmpty() : !where(call, focus, scope).isEmpty());
            case EMPTY -> bool(focus.isEmpty());
            case FIRST -> focus.isEmpty() ? List.of() : List.of(focus.get(0));
            case LAST -> focus.isEmpty() ? List.of() : List.of(focus.get(focus.size() - 1));
            case COUNT -> List.of(IntNode.valueOf(focus.size()));
            case NOT -> {
                Boolean value = FhirValues.singletonBoolean(focus, "not()");
                yield value == null ? List.of() : bool(!value);
            }
            case HAS_VALUE -> bool(focus.size() == 1 && node(focus.get(0)).isValueNode());
            case OF_TYPE -> ofType(focus, call.typeName());
            case EXTENSION -> extension(focus, FhirValues.singletonString(call.argument(0, scope), "extension()"));
            case JOIN -> join(call, focus, scope);
            case LOW_BOUNDARY, HIGH_BOUNDARY -> Boundaries.of(focus, this == HIGH_BOUNDARY, precision(call, scope));
            case GET_RESOURCE_KEY -> resourceKeys(focus);
            case GET_REFERENCE_KEY -> referenceKeys(focus, call.typeName());
        };
    }

    private static List<Object> where(Expression.FunctionCall call, List<Object> focus, Scope scope)
    {
        Expression criteria = call.arguments().get(0);
        List<Object> out = new ArrayList<>();
        for (int i = 0; i < focus.size(); i++) {
            Scope item = scope.iteration(focus.get(i), i);
            if (Boolean.TRUE.equals(FhirValues.singletonBoolean(criteria.evaluate(item.thisValue(), item), "where()"))) {
                out.add(focus.get(i));
            }
        }
        return out;
    }

    private static List<Object> select(Expression.FunctionCall call, List<Object> focus, Scope scope)
    {
        Expression projection = call.arguments().get(0);
        List<Object> out = new ArrayList<>();
        for (int i = 0; i < focus.size(); i++) {
            Scope item = scope.iteration(focus.get(i), i);
            out.addAll(projection.evaluate(item.thisValue(), item));
        }
        return out;
    }

    /** Items that are, or may be, of the type; items of a known type are kept only on an exact match. */
    static List<Object> ofType(List<Object> focus, String type)
    {
        List<Object> out = new ArrayList<>(focus.size());
        for (Object item : focus) {
            String known = FhirValues.type(item);
            if (known != null ? known.equals(type) : FhirTypes.mayBe(node(item), type)) {
                out.add(known != null || !node(item).isValueNode() ? item : new TypedNode(node(item), type));
            }
        }
        return out;
    }

    private static List<Object> extension(List<Object> focus, String url)
    {
        List<Object> out = new ArrayList<>();
        if (url == null) {
            return out;
        }
        for (Object item : focus) {
            JsonNode extensions = node(item).get("extension");
            if (extensions == null) {
                continue;
            }
            for (Object extension : Navigation.elements(extensions)) {
                JsonNode extensionUrl = node(extension).get("url");
                if (extensionUrl != null && url.equals(extensionUrl.asText())) {
                    out.add(extension);
                }
            }
        }
        return out;
    }

    /** join() of nothing is empty, not '' (fn_join.json). */
    private static List<Object> join(Expression.FunctionCall call, List<Object> focus, Scope scope)
    {
        if (focus.isEmpty()) {
            return List.of();
        }
        String separator = call.arguments().isEmpty() ? "" : FhirValues.singletonString(call.argument(0, scope), "join()");
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < focus.size(); i++) {
            JsonNode node = node(focus.get(i));
            if (!node.isValueNode()) {
                throw new FhirPathEvaluationException("join() expects strings but got " + FhirValues.kind(focus.get(i)));
            }
            if (i > 0 && separator != null) {
                out.append(separator);
            }
            out.append(node.asText());
        }
        return List.of(TextNode.valueOf(out.toString()));
    }

    private static Integer precision(Expression.FunctionCall call, Scope scope)
    {
        if (call.arguments().isEmpty()) {
            return null;
        }
        Object value = FhirValues.singleton(call.argument(0, scope), "precision");
        if (value == null || !node(value).isIntegralNumber()) {
            throw new FhirPathEvaluationException("the precision of a boundary must be an integer");
        }
        return node(value).intValue();
    }

    /** getResourceKey(): the id of each resource in the focus. */
    private static List<Object> resourceKeys(List<Object> focus)
    {
        List<Object> out = new ArrayList<>(1);
        for (Object item : focus) {
            JsonNode node = node(item);
            JsonNode id = node.get("resourceType") != null ? node.get("id") : null;
            if (id != null && id.isTextual()) {
                out.add(id);
            }
        }
        return out;
    }

    /**
     * getReferenceKey([type]): the id of each relative literal reference ({@code Patient/123}, optionally with
     * {@code /_history/v}) whose type matches; absolute, logical and contained references give nothing.
     */
    private static List<Object> referenceKeys(List<Object> focus, String type)
    {
        List<Object> out = new ArrayList<>(1);
        for (Object item : focus) {
            JsonNode reference = node(item).get("reference");
            if (reference != null && reference.isTextual()) {
                String key = ReferenceKeys.idOf(reference.textValue(), type);
                if (key != null) {
                    out.add(TextNode.valueOf(key));
                }
            }
        }
        return out;
    }
}
