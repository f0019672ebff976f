package uk.nhs.fhirmesh.view.fhirpath;

/** A FHIRPath expression that cannot be compiled: bad syntax, an unknown function or constant, wrong arguments. */
public class FhirPathException
        extends IllegalArgumentException
{
    public FhirPathException(String message)
    {
        super(message);
    }
}
