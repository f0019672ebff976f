package uk.nhs.fhirmesh.exclusion;

import uk.nhs.fhirmesh.client.FhirRequestException;

import static java.util.Objects.requireNonNull;

/**
 * A skipped domain whose patients and opt-outs could not be used: its last successful read is older than the
 * allowed staleness (or there was none) and reading it now failed. Without them no patient row of any domain may
 * leave the connector, since one of its opt-outs could be a patient of another domain (fail closed).
 */
public final class OptOutsUnknownException
        extends RuntimeException
{
    private final String domain;

    public OptOutsUnknownException(String domain, String message, FhirRequestException cause)
    {
        super(message, requireNonNull(cause, "cause"));
        this.domain = requireNonNull(domain, "domain");
    }

    public String domain()
    {
        return domain;
    }

    /** Why reading the domain now failed. */
    public FhirRequestException readFailure()
    {
        return (FhirRequestException) getCause();
    }
}
