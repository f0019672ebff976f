package uk.nhs.fhirmesh.view.fhirpath;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.HashMap;
import java.util.Map;
import java.util.Set;

/**
 * The little FHIR type knowledge the evaluator needs without a FHIR model: which suffixes name a choice
 * element's type in JSON ({@code valueQuantity}), how a type specifier is spelled, and which JSON shapes a
 * type can take.
 */
final class FhirTypes
{
    private static final Set<String> PRIMITIVES = Set.of("base64Binary", "boolean", "canonical", "code", "date", "dateTime",
            "decimal", "id", "instant", "integer", "integer64", "markdown", "oid", "positiveInt", "string", "time",
            "unsignedInt", "uri", "url", "uuid", "xhtml");
    private static final Set<String> COMPLEX = Set.of("Address", "Age", "Annotation", "Attachment", "Availability",
            "CodeableConcept", "CodeableReference", "Coding", "ContactDetail", "ContactPoint", "Contributor", "Count",
            "DataRequirement", "Distance", "Dosage", "Duration", "Expression", "ExtendedContactDetail", "HumanName",
            "Identifier", "Meta", "Money", "ParameterDefinition", "Period", "Quantity", "Range", "Ratio", "RatioRange",
            "Reference", "RelatedArtifact", "SampledData", "Signature", "Timing", "TriggerDefinition", "UsageContext",
            "VirtualServiceDetail");
    private static final Set<String> STRING_LIKE = Set.of("base64Binary", "canonical", "code", "date", "dateTime", "id",
            "instant", "markdown", "oid", "string", "time", "uri", "url", "uuid", "xhtml");
    private static final Set<String> INTEGRAL = Set.of("integer", "integer64", "positiveInt", "unsignedInt");
    /** FHIRPath System types (and their unqualified spellings) as FHIR type codes. */
    private static final Map<String, String> SYSTEM_TYPES = Map.of("String", "string", "Integer", "integer",
            "Decimal", "decimal", "Boolean", "boolean", "Date", "date", "DateTime", "dateTime", "Time", "time",
            "Long", "integer64", "Quantity", "Quantity");
    /** JSON name suffix of a choice element -> FHIR type code, e.g. "DateTime" -> "dateTime". */
    private static final Map<String, String> BY_SUFFIX = new HashMap<>();

    static {
        PRIMITIVES.forEach(type -> BY_SUFFIX.put(suffix(type), type));
        COMPLEX.forEach(type -> BY_SUFFIX.put(type, type));
    }

    private FhirTypes() {}

    /** The JSON suffix of a choice element of this type: {@code dateTime} -> {@code DateTime}. */
    static String suffix(String type)
    {
        return Character.toUpperCase(type.charAt(0)) + type.substring(1);
    }

    /** The type named by a choice element's JSON suffix, or null when the suffix is not a FHIR data type. */
    static String typeOfSuffix(String suffix)
    {
        return BY_SUFFIX.get(suffix);
    }

    /** A type specifier as written ({@code Quantity}, {@code FHIR.string}, {@code System.DateTime}) as a FHIR type code. */
    static String normalize(String namespace, String name)
    {
        if ("System".equals(namespace) || (namespace == null && !PRIMITIVES.contains(name) && SYSTEM_TYPES.containsKey(name))) {
            return SYSTEM_TYPES.getOrDefault(name, name);
        }
        return name;
    }

    static boolean isTemporal(String type)
    {
        return PartialTemporal.Kind.ofFhirType(type) != null;
    }

    /**
     * Whether an item of unknown type may be of {@code type}. Without a model only the JSON shape can be checked,
     * so this is generous: a JSON string may be any string-like type, an object any complex type.
     */
    static boolean mayBe(JsonNode node, String type)
    {
        if (node.isTextual()) {
            return STRING_LIKE.contains(type);
        }
        if (node.isBoolean()) {
            return type.equals("boolean");
        }
        if (node.isIntegralNumber()) {
            return INTEGRAL.contains(type) || type.equals("decimal");
        }
        if (node.isNumber()) {
            return type.equals("decimal");
        }
        if (node.isObject()) {
            JsonNode resourceType = node.get("resourceType");
            if (resourceType != null) {
                return resourceType.asText().equals(type);
            }
            return !PRIMITIVES.contains(type) && !type.isEmpty() && Character.isUpperCase(type.charAt(0));
        }
        return false;
    }
}
