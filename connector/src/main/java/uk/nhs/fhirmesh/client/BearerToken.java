package uk.nhs.fhirmesh.client;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.OptionalInt;

import static java.nio.charset.StandardCharsets.UTF_8;
import static java.util.Objects.requireNonNull;

/**
 * Where an endpoint's bearer token comes from. The token is read on every request, so a rotated token
 * file is picked up without a restart, and never held by, logged or printed from these objects: their
 * {@code toString()} and error messages name the variable or file only.
 */
public sealed interface BearerToken
        permits BearerToken.EnvironmentVariable, BearerToken.TokenFile
{
    static BearerToken fromEnvironment(String variable)
    {
        return new EnvironmentVariable(variable);
    }

    static BearerToken fromFile(Path file)
    {
        return new TokenFile(file);
    }

    /**
     * The current token.
     *
     * @throws FhirRequestException of kind {@code AUTH_CONFIGURATION} when the token cannot be read or is unusable
     */
    String value();

    record EnvironmentVariable(String variable)
            implements BearerToken
    {
        public EnvironmentVariable
        {
            requireNonNull(variable, "variable");
        }

        @Override
        public String value()
        {
            String token = System.getenv(variable);
            if (token == null || token.isBlank()) {
                throw configurationError("bearer token environment variable " + variable + " is not set", null);
            }
            return checked(token.strip(), "environment variable " + variable);
        }

        @Override
        public String toString()
        {
            return "bearer token from environment variable " + variable;
        }
    }

    record TokenFile(Path file)
            implements BearerToken
    {
        public TokenFile
        {
            requireNonNull(file, "file");
        }

        @Override
        public String value()
        {
            String token;
            try {
                token = Files.readString(file, UTF_8);
            }
            catch (IOException e) {
                throw configurationError("bearer token file " + file + " cannot be read (" + e.getClass().getSimpleName() + ")", e);
            }
            if (token.isBlank()) {
                throw configurationError("bearer token file " + file + " is empty", null);
            }
            return checked(token.strip(), "file " + file);
        }

        @Override
        public String toString()
        {
            return "bearer token from file " + file;
        }
    }

    /** Refuses tokens that cannot travel in a header: the JDK would otherwise reject them with a message quoting the value. */
    private static String checked(String token, String source)
    {
        for (int i = 0; i < token.length(); i++) {
            char c = token.charAt(i);
            if (c < 0x21 || c > 0x7e) {
                throw configurationError("bearer token in " + source + " contains characters that cannot be sent in an HTTP header", null);
            }
        }
        return token;
    }

    private static FhirRequestException configurationError(String message, Throwable cause)
    {
        return new FhirRequestException(FhirRequestException.Kind.AUTH_CONFIGURATION, null, null, OptionalInt.empty(), message, cause);
    }
}
