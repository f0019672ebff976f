package uk.nhs.fhirmesh.client;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Token sources are confined to what is meant for catalogs: files inside the secrets directory after
 * symlinks and {@code ..} are resolved, and FHIR_MESH_TOKEN_* variables. Messages name files and
 * directories, never a token.
 */
class TestBearerToken
{
    private static final String TOKEN = "tok-5e3b9c-secret";
    private static final String OTHER_SECRET = "ops-7a1f-other-secret";

    @TempDir
    Path temporary;
    private Path secrets;
    private Path outside;

    @BeforeEach
    void files()
            throws IOException
    {
        secrets = Files.createDirectories(temporary.resolve("secrets").resolve("fhir-tokens"));
        Files.writeString(secrets.resolve("rx1.token"), TOKEN + "\n");
        outside = Files.createDirectories(temporary.resolve("run")).resolve("ops-token");
        Files.writeString(outside, OTHER_SECRET);
    }

    private static String refusedRead(BearerToken token)
    {
        FhirRequestException e = assertThrows(FhirRequestException.class, token::value);
        assertEquals(FhirRequestException.Kind.AUTH_CONFIGURATION, e.kind());
        assertFalse(e.getMessage().contains(TOKEN) || e.getMessage().contains(OTHER_SECRET), e.getMessage());
        return e.getMessage();
    }

    @Test
    void readsAFileInsideTheSecretsDirectoryOnEveryRequest()
            throws IOException
    {
        BearerToken.TokenFile token = BearerToken.fromFile(secrets.resolve("rx1.token"), Optional.of(secrets));
        assertEquals(Optional.empty(), token.refusal());
        assertEquals(TOKEN, token.value());
        Files.writeString(secrets.resolve("rx1.token"), "rotated");
        assertEquals("rotated", token.value());
        // Nested folders are inside too, and the directory may itself be reached through a symlink.
        Path link = Files.createSymbolicLink(temporary.resolve("tokens-link"), secrets);
        Files.createDirectories(secrets.resolve("rth"));
        Files.writeString(secrets.resolve("rth").resolve("token"), "nested");
        assertEquals("nested", BearerToken.fromFile(link.resolve("rth").resolve("token"), Optional.of(link)).value());
    }

    @Test
    void refusesAFileOutsideTheSecretsDirectory()
    {
        BearerToken.TokenFile token = BearerToken.fromFile(outside, Optional.of(secrets));
        String expected = "bearer token file " + outside + " is outside the secrets directory " + secrets + " (fhir.secrets-dir); token files are read only from there";
        assertEquals(Optional.of(expected), token.refusal());
        assertEquals(expected, refusedRead(token));
    }

    @Test
    void refusesASymlinkOutOfTheSecretsDirectory()
            throws IOException
    {
        Path link = Files.createSymbolicLink(secrets.resolve("rx1-link.token"), outside);
        BearerToken.TokenFile token = BearerToken.fromFile(link, Optional.of(secrets));
        assertTrue(token.refusal().orElseThrow().contains("(it resolves to " + outside.toRealPath() + ") is outside the secrets directory " + secrets), token.refusal().toString());
        assertTrue(refusedRead(token).contains("is outside the secrets directory"));
    }

    @Test
    void aFileAcceptedWhenTheCatalogWasMadeIsCheckedAgainOnEveryRead()
            throws IOException
    {
        Path file = secrets.resolve("swapped.token");
        Files.writeString(file, TOKEN);
        BearerToken.TokenFile token = BearerToken.fromFile(file, Optional.of(secrets));
        assertEquals(Optional.empty(), token.refusal());
        assertEquals(TOKEN, token.value());
        Files.delete(file);
        Files.createSymbolicLink(file, outside);
        assertTrue(refusedRead(token).contains("is outside the secrets directory"));
    }

    @Test
    void refusesDotDotOutOfTheSecretsDirectory()
    {
        Path escape = secrets.resolve("..").resolve("..").resolve("run").resolve("ops-token");
        BearerToken.TokenFile token = BearerToken.fromFile(escape, Optional.of(secrets));
        assertTrue(token.refusal().orElseThrow().contains("is outside the secrets directory"), token.refusal().toString());
        assertTrue(refusedRead(token).contains("is outside the secrets directory"));
        // A missing file is judged by its folder when the catalog is made, and reported by name when read.
        Path missingOutside = secrets.resolve("..").resolve("not-yet.token");
        assertTrue(BearerToken.fromFile(missingOutside, Optional.of(secrets)).refusal().orElseThrow().contains("is outside the secrets directory"));
        BearerToken.TokenFile missingInside = BearerToken.fromFile(secrets.resolve("not-yet.token"), Optional.of(secrets));
        assertEquals(Optional.empty(), missingInside.refusal());
        assertTrue(refusedRead(missingInside).contains("cannot be read (NoSuchFileException)"));
    }

    @Test
    void refusesEveryFileWithoutAnExistingSecretsDirectory()
    {
        BearerToken.TokenFile unconfigured = BearerToken.fromFile(secrets.resolve("rx1.token"), Optional.empty());
        String expected = "bearer token file " + secrets.resolve("rx1.token") + " is refused: no secrets directory is configured (start Trino with -Dfhir.secrets-dir=<directory>; token files are read only from there)";
        assertEquals(Optional.of(expected), unconfigured.refusal());
        assertEquals(expected, refusedRead(unconfigured));

        Path missingDir = temporary.resolve("no-such-dir");
        BearerToken.TokenFile missing = BearerToken.fromFile(missingDir.resolve("rx1.token"), Optional.of(missingDir));
        assertTrue(missing.refusal().orElseThrow().endsWith("the secrets directory " + missingDir + " (fhir.secrets-dir) is not an existing directory"), missing.refusal().toString());
        refusedRead(missing);
    }

    @Test
    void refusesWhatIsNotARegularFile()
    {
        BearerToken.TokenFile directory = BearerToken.fromFile(secrets.getParent().resolve("fhir-tokens").resolve("."), Optional.of(secrets));
        assertTrue(directory.refusal().isPresent());
        BearerToken.TokenFile folder = BearerToken.fromFile(secrets.resolve("sub"), Optional.of(secrets));
        assertEquals(Optional.empty(), folder.refusal());
        assertTrue(secrets.resolve("sub").toFile().mkdir());
        assertEquals(Optional.of("bearer token file " + secrets.resolve("sub") + " is not a regular file"), folder.refusal());
        assertEquals("bearer token file " + secrets.resolve("sub") + " is not a regular file", refusedRead(folder));
    }

    @Test
    void environmentVariablesMustBeNamedForCatalogs()
    {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> BearerToken.fromEnvironment("MESH_OPS_TOKEN"));
        assertEquals("bearer token environment variable MESH_OPS_TOKEN is refused: only variables named FHIR_MESH_TOKEN_<name> hold tokens for catalogs", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> BearerToken.fromEnvironment("FHIR_MESH_TOKEN_"));
        assertEquals("bearer token from environment variable FHIR_MESH_TOKEN_RX1", BearerToken.fromEnvironment("FHIR_MESH_TOKEN_RX1").toString());
    }
}
