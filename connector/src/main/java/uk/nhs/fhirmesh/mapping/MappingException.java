package uk.nhs.fhirmesh.mapping;

/** A mapping file that cannot be served; the message names the file and the problem. */
public class MappingException
        extends RuntimeException
{
    public MappingException(String message)
    {
        super(message);
    }

    public MappingException(String message, Throwable cause)
    {
        super(message, cause);
    }
}
