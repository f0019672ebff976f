package uk.nhs.fhirmesh.client;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.Optional;
import java.util.OptionalInt;

import static java.nio.charset.StandardCharsets.UTF_8;
import static java.util.Objects.requireNonNull;

/**
 * Where an endpoint's bearer token comes from. The token is read on every request, so a rotated token
 * file is picked up without a restart, and never held by, logged or printed from these objects: their
 * {@code toString()} and error messages name the variable or file only.
 * <p>
 * Catalog properties name the source, and any Trino user who may CREATE CATALOG writes them, so a source
 * is confined to what is meant for catalogs: environment variables named {@value #ENVIRONMENT_PREFIX}*, and
 * regular files inside the secrets directory set by whoever starts Trino ({@value #SECRETS_DIR_PROPERTY}),
 * judged after symlinks and {@code ..} are resolved. Without that directory no token file is read.
 */
public sealed interface BearerToken
        permits BearerToken.EnvironmentVariable, BearerToken.TokenFile
{
    /** Trino's environment holds other secrets (the mesh's ops token, say); token variables carry this prefix. */
    String ENVIRONMENT_PREFIX = "FHIR_MESH_TOKEN_";

    /** JVM system property naming the only directory token files are read from; never a catalog property. */
    String SECRETS_DIR_PROPERTY = "fhir.secrets-dir";

    static BearerToken fromEnvironment(String variable)
    {
        return new EnvironmentVariable(variable);
    }

    /** @param secretsDir the directory token files must be inside; without one, every read is refused */
    static TokenFile fromFile(Path file, Optional<Path> secretsDir)
    {
        return new TokenFile(file, secretsDir);
    }

    /** The directory {@value #SECRETS_DIR_PROPERTY} names, if it is set. */
    static Optional<Path> configuredSecretsDir()
    {
        String dir = System.getProperty(SECRETS_DIR_PROPERTY);
        return dir == null || dir.isBlank() ? Optional.empty() : Optional.of(Path.of(dir.strip()));
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
            if (!variable.startsWith(ENVIRONMENT_PREFIX) || variable.length() == ENVIRONMENT_PREFIX.length()) {
                throw new IllegalArgumentException("bearer token environment variable " + variable + " is refused: only variables named " + ENVIRONMENT_PREFIX + "<name> hold tokens for catalogs");
            }
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

    /** @param secretsDir the directory the file must be inside; without one, every read is refused */
    record TokenFile(Path file, Optional<Path> secretsDir)
            implements BearerToken
    {
        public TokenFile
        {
            requireNonNull(file, "file");
            requireNonNull(secretsDir, "secretsDir");
        }

        /**
         * Why a catalog may not name this file, or empty. A file that is not there yet is judged by the real path
         * of its folder; it is judged again, whole, on every read.
         */
        public Optional<String> refusal()
        {
            try {
                Path dir = realSecretsDir();
                Path absolute = file.toAbsolutePath();
                if (Files.exists(absolute, LinkOption.NOFOLLOW_LINKS) || absolute.getParent() == null) {
                    confined(dir, realPath(absolute));
                }
                else {
                    confined(dir, realPath(absolute.getParent()).resolve(absolute.getFileName()));
                }
                return Optional.empty();
            }
            catch (FhirRequestException e) {
                return Optional.of(e.getMessage());
            }
        }

        @Override
        public String value()
        {
            Path real = confined(realSecretsDir(), realPath(file));
            String token;
            // The checked path has no symlink left; NOFOLLOW_LINKS keeps one swapped in since from being followed.
            try (InputStream in = Files.newInputStream(real, LinkOption.NOFOLLOW_LINKS)) {
                token = new String(in.readAllBytes(), UTF_8);
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

        private Path realSecretsDir()
        {
            if (secretsDir.isEmpty()) {
                throw configurationError("bearer token file " + file + " is refused: no secrets directory is configured (start Trino with -D"
                        + SECRETS_DIR_PROPERTY + "=<directory>; token files are read only from there)", null);
            }
            try {
                Path real = secretsDir.get().toRealPath();
                if (Files.isDirectory(real)) {
                    return real;
                }
            }
            catch (IOException e) {
                // Reported below, without the exception's own text.
            }
            throw configurationError("bearer token file " + file + " is refused: the secrets directory " + secretsDir.get() + " (" + SECRETS_DIR_PROPERTY + ") is not an existing directory", null);
        }

        private Path realPath(Path path)
        {
            try {
                return path.toRealPath();
            }
            catch (IOException e) {
                throw configurationError("bearer token file " + file + " cannot be read (" + e.getClass().getSimpleName() + ")", e);
            }
        }

        private Path confined(Path dir, Path real)
        {
            if (!real.startsWith(dir) || real.equals(dir)) {
                String resolved = real.equals(file) ? "" : " (it resolves to " + real + ")";
                throw configurationError("bearer token file " + file + resolved + " is outside the secrets directory " + secretsDir.get() + " ("
                        + SECRETS_DIR_PROPERTY + "); token files are read only from there", null);
            }
            if (Files.exists(real, LinkOption.NOFOLLOW_LINKS) && !Files.isRegularFile(real, LinkOption.NOFOLLOW_LINKS)) {
                throw configurationError("bearer token file " + file + " is not a regular file", null);
            }
            return real;
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
