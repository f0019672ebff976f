package uk.nhs.fhirmesh.view;

/** A ViewDefinition that is not valid; the message names the problem and where it is. */
public class ViewDefinitionException
        extends IllegalArgumentException
{
    public ViewDefinitionException(String message)
    {
        super(message);
    }

    public ViewDefinitionException(String message, Throwable cause)
    {
        super(message, cause);
    }
}
