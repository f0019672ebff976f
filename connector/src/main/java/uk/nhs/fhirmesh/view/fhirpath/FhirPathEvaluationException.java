package uk.nhs.fhirmesh.view.fhirpath;

/** An expression that compiled but cannot be evaluated on this input, e.g. an operator given several values. */
public class FhirPathEvaluationException
        extends RuntimeException
{
    public FhirPathEvaluationException(String message)
    {
        super(message);
    }
}
