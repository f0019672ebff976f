package uk.nhs.fhirmesh.view;

/**
 * A resource the view cannot flatten, e.g. several values for a column without {@code collection: true}. The
 * message names the column or clause but never a value from the resource.
 */
public class ViewEvaluationException
        extends RuntimeException
{
    public ViewEvaluationException(String message)
    {
        super(message);
    }

    public ViewEvaluationException(String message, Throwable cause)
    {
        super(message, cause);
    }
}
