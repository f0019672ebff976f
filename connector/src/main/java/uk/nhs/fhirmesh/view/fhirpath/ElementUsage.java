package uk.nhs.fhirmesh.view.fhirpath;

import uk.nhs.fhirmesh.view.fhirpath.Expression.Binary;
import uk.nhs.fhirmesh.view.fhirpath.Expression.ChoiceMember;
import uk.nhs.fhirmesh.view.fhirpath.Expression.FunctionCall;
import uk.nhs.fhirmesh.view.fhirpath.Expression.Index;
import uk.nhs.fhirmesh.view.fhirpath.Expression.Indexer;
import uk.nhs.fhirmesh.view.fhirpath.Expression.Literal;
import uk.nhs.fhirmesh.view.fhirpath.Expression.Member;
import uk.nhs.fhirmesh.view.fhirpath.Expression.Negate;
import uk.nhs.fhirmesh.view.fhirpath.Expression.Path;
import uk.nhs.fhirmesh.view.fhirpath.Expression.RootResource;
import uk.nhs.fhirmesh.view.fhirpath.Expression.RowIndex;
import uk.nhs.fhirmesh.view.fhirpath.Expression.This;

import java.util.HashSet;
import java.util.Optional;
import java.util.Set;

/**
 * Collects the top-level elements of a resource that expressions read, for FHIR's {@code _elements}. The
 * analysis tracks whether each step's input may be the resource itself: only a name read from the resource
 * is a top-level element ({@code name.where(use = 'x')} reads {@code name}; {@code where(active)} at the root
 * reads {@code active}). Anything it cannot follow, such as {@code %resource}, makes the answer unknown, since
 * leaving out a needed element would silently change results.
 */
public final class ElementUsage
{
    private final Set<String> elements = new HashSet<>();
    private boolean unknown;

    /**
     * Records what an iteration path (forEach, repeat) reads when evaluated on the resource
     * ({@code inputIsResource}) or on a node inside it, and returns whether the items it gives may include the
     * resource itself.
     */
    public boolean addIteration(Expression expression, boolean inputIsResource)
    {
        return visit(expression, inputIsResource, inputIsResource);
    }

    /** Records what a column or where path reads. A value that may be the whole resource needs all of it. */
    public void addValue(Expression expression, boolean inputIsResource)
    {
        if (visit(expression, inputIsResource, inputIsResource)) {
            unknown = true;
        }
    }

    /** The element names, or empty when some expression could not be analysed. */
    public Optional<Set<String>> elements()
    {
        return unknown ? Optional.empty() : Optional.of(Set.copyOf(elements));
    }

    /** @return whether the expression's result may be (part of) the resource itself */
    private boolean visit(Expression expression, boolean focusIsResource, boolean thisIsResource)
    {
        return switch (expression) {
            case Literal _, RowIndex _, Index _ -> false;
            case RootResource _ -> {
                unknown = true;
                yield true;
            }
            case This _ -> thisIsResource;
            case Member member when Character.isUpperCase(member.name().charAt(0)) -> focusIsResource; // Patient.name
            case Member member -> {
                read(member.name(), focusIsResource);
                yield false;
            }
            case ChoiceMember choice -> {
                read(choice.name(), focusIsResource);
                yield false;
            }
            case Path path -> visit(path.right(), visit(path.left(), focusIsResource, thisIsResource), thisIsResource);
            case Indexer indexer -> {
                visit(indexer.index(), thisIsResource, thisIsResource);
                yield visit(indexer.target(), focusIsResource, thisIsResource);
            }
            case Negate negate -> {
                visit(negate.operand(), focusIsResource, thisIsResource);
                yield false;
            }
            case Binary binary -> {
                boolean left = visit(binary.left(), focusIsResource, thisIsResource);
                boolean right = visit(binary.right(), focusIsResource, thisIsResource);
                if (binary.operator() == Operator.UNION) {
                    yield left || right;
                }
                // Comparing the resource itself with something depends on all of it.
                unknown |= left || right;
                yield false;
            }
            case FunctionCall call -> function(call, focusIsResource, thisIsResource);
        };
    }

    private boolean function(FunctionCall call, boolean focusIsResource, boolean thisIsResource)
    {
        // An iterating argument sees each focus item as $this; any other argument sees the caller's $this.
        boolean argumentInputIsResource = call.function().arguments() == Function.Arguments.ITERATING ? focusIsResource : thisIsResource;
        boolean result = false;
        for (Expression argument : call.arguments()) {
            boolean argumentResult = visit(argument, argumentInputIsResource, argumentInputIsResource);
            result |= call.function() == Function.SELECT && argumentResult;
        }
        switch (call.function()) {
            case GET_RESOURCE_KEY -> read("id", focusIsResource);
            case GET_REFERENCE_KEY -> read("reference", focusIsResource);
            case EXTENSION -> read("extension", focusIsResource);
            default -> { }
        }
        return result || (call.function().subsetOfFocus() && focusIsResource);
    }

    private void read(String name, boolean fromResource)
    {
        // resourceType is not an element; every response carries it.
        if (fromResource && !name.equals("resourceType")) {
            elements.add(name);
        }
    }
}
