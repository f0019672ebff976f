package uk.nhs.fhirmesh.client;

import java.util.OptionalInt;

/** What went wrong with one request, before {@link RequestScope} turns it into a {@link FhirRequestException}. */
record Failure(FhirRequestException.Kind kind, OptionalInt httpStatus, String detail, Throwable cause)
{
    static Failure of(FhirRequestException.Kind kind, String detail)
    {
        return new Failure(kind, OptionalInt.empty(), detail, null);
    }

    static Failure of(FhirRequestException.Kind kind, String detail, Throwable cause)
    {
        return new Failure(kind, OptionalInt.empty(), detail, cause);
    }

    Failure withNote(String note)
    {
        return new Failure(kind, httpStatus, detail + " (" + note + ")", cause);
    }
}
