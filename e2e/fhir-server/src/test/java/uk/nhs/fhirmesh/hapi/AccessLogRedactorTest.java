package uk.nhs.fhirmesh.hapi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AccessLogRedactorTest {

	private static final String KEY_HEX = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
	private static final AccessLogRedactor REDACTOR =
			new AccessLogRedactor(HexFormat.of().parseHex(KEY_HEX), List.of("rx1", "rth"));

	// Expected hashes computed independently of this code:
	// printf '%s' "$value" | openssl dgst -sha256 -mac HMAC -macopt hexkey:$KEY_HEX | cut -c1-16 of the digest
	private static final String SNOMED_CODE = "h:87e41c5950a63cbe"; // http://snomed.info/sct|44054006
	private static final String ONSET = "h:cbaed93ef1a47320"; // 2020-01-01T00:00:00Z
	private static final String PATIENT_ABC = "h:bc0c3c8563b20382"; // Patient/abc
	private static final String PATIENT_DEF = "h:2815e101ea5a5231"; // Patient/def
	private static final String NHS_TOKEN = "h:ab0be7ca218c2aff"; // https://fhir.nhs.uk/Id/nhs-number|9000000009
	private static final String SMITH = "h:ca7b7eb60758e7cf"; // Smith
	private static final String ESCAPED_COMMA = "h:c34257a30bbc2163"; // a\,b
	private static final String RESOURCE_ID = "h:679593fc5e95ef27"; // rx1-pat-000123
	private static final String INVALID_UTF8 = "h:2ca61e3f8698501a"; // bytes 'x' 0xFF
	private static final String A_SPACE_B = "h:ad16cd765ce6512b"; // a b

	@Test
	void hashesAreTruncatedHmacSha256MarkedAsHashes() {
		assertEquals(SNOMED_CODE, REDACTOR.hash("http://snomed.info/sct|44054006".getBytes(StandardCharsets.UTF_8)));
	}

	@Test
	void searchValuesAreHashedAndNamesAndModifiersStayReadable() {
		assertEquals("code=" + SNOMED_CODE + "&onset-date=ge" + ONSET,
				REDACTOR.redactQuery("code=http://snomed.info/sct|44054006&onset-date=ge2020-01-01T00:00:00Z"));
		assertEquals("identifier=" + NHS_TOKEN + "&family:exact=" + SMITH,
				REDACTOR.redactQuery("identifier=https://fhir.nhs.uk/Id/nhs-number|9000000009&family:exact=Smith"));
	}

	@Test
	void percentEncodingAndPlusAreDecodedBeforeHashing() {
		assertEquals("code=" + SNOMED_CODE, REDACTOR.redactQuery("code=http%3A%2F%2Fsnomed.info%2Fsct%7C44054006"));
		assertEquals("code=" + SNOMED_CODE, REDACTOR.redactQuery("code=http://snomed.info/sct%7c44054006"));
		assertEquals("name=" + A_SPACE_B, REDACTOR.redactQuery("name=a+b"));
		assertEquals("name=" + A_SPACE_B, REDACTOR.redactQuery("name=a%20b"));
		// Invalid UTF-8 is hashed as the bytes the server received.
		assertEquals("identifier=" + INVALID_UTF8, REDACTOR.redactQuery("identifier=x%FF"));
	}

	@Test
	void listsAreHashedElementByElementAndEscapedCommasStayInOneElement() {
		assertEquals("subject=" + PATIENT_ABC + "," + PATIENT_DEF, REDACTOR.redactQuery("subject=Patient/abc,Patient/def"));
		// An encoded comma separates values too (the server decodes before splitting).
		assertEquals("subject=" + PATIENT_ABC + "," + PATIENT_DEF, REDACTOR.redactQuery("subject=Patient%2Fabc%2CPatient%2Fdef"));
		assertEquals("name=" + ESCAPED_COMMA, REDACTOR.redactQuery("name=a%5C,b"));
		assertEquals("name=" + SMITH + ",," + SMITH, REDACTOR.redactQuery("name=Smith,,Smith"));
	}

	@Test
	void comparatorPrefixesStayReadableOnlyBeforeADigit() {
		assertEquals("birthdate=le" + ONSET + ",ge" + ONSET,
				REDACTOR.redactQuery("birthdate=le2020-01-01T00:00:00Z,ge2020-01-01T00:00:00Z"));
		String notAPrefix = REDACTOR.redactQuery("family=Gerrard");
		assertTrue(notAPrefix.matches("family=h:[0-9a-f]{16}"), notAPrefix);
		String apWithLetter = REDACTOR.redactQuery("given=apple");
		assertTrue(apWithLetter.matches("given=h:[0-9a-f]{16}"), apWithLetter);
	}

	@Test
	void allowListedParametersKeepTheirValues() {
		String paging = "_getpages=0ee97099-70ec-4f09-be23-a59af376ce2f&_getpagesoffset=20&_count=20&_bundletype=searchset";
		assertEquals(paging, REDACTOR.redactQuery(paging));
		String shape = "_summary=count&_total=accurate&_sort=-_lastUpdated&_elements=id,meta&_pretty=true&_format=json";
		assertEquals(shape, REDACTOR.redactQuery(shape));
		String labels = "_security=http://terminology.hl7.org/CodeSystem/v3-Confidentiality|R&_security:not=PSY"
				+ "&_lastUpdated=ge2024-01-01&_expunge=true";
		assertEquals(labels, REDACTOR.redactQuery(labels));
		// A percent-encoded name is recognised too.
		assertEquals("_security%3Anot=PSY", REDACTOR.redactQuery("_security%3Anot=PSY"));
	}

	@Test
	void idsAndOtherParametersOutsideTheAllowListAreHashed() {
		assertEquals("_id=" + RESOURCE_ID, REDACTOR.redactQuery("_id=rx1-pat-000123"));
		assertEquals("_count_typo=" + hashOf("20"), REDACTOR.redactQuery("_count_typo=20"));
	}

	@Test
	void emptyValuesBareNamesAndEmptyPairsArePreserved() {
		assertEquals("family=&_count=5&&flag", REDACTOR.redactQuery("family=&_count=5&&flag"));
		assertEquals("", REDACTOR.redactQuery(""));
	}

	@Test
	void noClearValueSurvivesInAnyPushedDownSearch() {
		String query = "identifier=https://fhir.nhs.uk/Id/nhs-number|9000000009,https://fhir.nhs.uk/Id/nhs-number|9000000017"
				+ "&family:exact=O%27Brien&given:exact=Mary&birthdate=ge1970-03-04&birthdate=lt1970-03-05"
				+ "&address-postalcode:exact=LS1+4AP&_count=500";
		String redacted = REDACTOR.redactQuery(query);
		for (String clear : List.of("9000000009", "9000000017", "Brien", "Mary", "1970", "LS1", "4AP", "nhs-number")) {
			assertFalse(redacted.contains(clear), clear + " in " + redacted);
		}
		assertTrue(redacted.matches("identifier=h:\\w{16},h:\\w{16}&family:exact=h:\\w{16}&given:exact=h:\\w{16}"
				+ "&birthdate=geh:\\w{16}&birthdate=lth:\\w{16}&address-postalcode:exact=h:\\w{16}&_count=500"), redacted);
	}

	@Test
	void pathsKeepTheirStructureAndHashIdsAndUnknownTenants() {
		assertEquals("/fhir/rx1/Patient", REDACTOR.redactPath("/fhir/rx1/Patient"));
		assertEquals("/fhir/rx1/Patient/" + RESOURCE_ID, REDACTOR.redactPath("/fhir/rx1/Patient/rx1-pat-000123"));
		assertEquals("/fhir/rx1/Patient/" + RESOURCE_ID + "/_history/" + hashOf("2"),
				REDACTOR.redactPath("/fhir/rx1/Patient/rx1-pat-000123/_history/2"));
		assertEquals("/fhir/rx1/Patient/" + RESOURCE_ID + "/$everything",
				REDACTOR.redactPath("/fhir/rx1/Patient/rx1-pat-000123/$everything"));
		assertEquals("/fhir/rx1/Patient/" + RESOURCE_ID + "/Observation",
				REDACTOR.redactPath("/fhir/rx1/Patient/rx1-pat-000123/Observation"));
		assertEquals("/fhir/rx1/Patient/_search", REDACTOR.redactPath("/fhir/rx1/Patient/_search"));
		assertEquals("/fhir/rth/metadata", REDACTOR.redactPath("/fhir/rth/metadata"));
		assertEquals("/fhir/rth/$expunge", REDACTOR.redactPath("/fhir/rth/$expunge"));
		assertEquals("/fhir/rth", REDACTOR.redactPath("/fhir/rth"));
		assertEquals("/fhir/rth/", REDACTOR.redactPath("/fhir/rth/"));
		// Only served tenants and FHIR-shaped segments are readable; anything else may be a value.
		assertEquals("/fhir/" + hashOf("9000000009") + "/Patient", REDACTOR.redactPath("/fhir/9000000009/Patient"));
		assertEquals("/fhir/rx1/" + hashOf("9000000009"), REDACTOR.redactPath("/fhir/rx1/9000000009"));
		assertEquals("/" + hashOf("9000000009"), REDACTOR.redactPath("/9000000009"));
	}

	@Test
	void requestTargetJoinsPathAndQuery() {
		assertEquals("/fhir/rx1/Patient?family=" + SMITH + "&_count=5",
				REDACTOR.redactTarget("/fhir/rx1/Patient", "family=Smith&_count=5"));
		assertEquals("/fhir/rx1/metadata", REDACTOR.redactTarget("/fhir/rx1/metadata", null));
	}

	@Test
	void differentKeysGiveDifferentHashes() {
		byte[] other = HexFormat.of().parseHex(KEY_HEX);
		other[0] = 1;
		assertFalse(new AccessLogRedactor(other, List.of("rx1")).hash("Smith".getBytes(StandardCharsets.UTF_8)).equals(SMITH));
	}

	@Test
	void keyFileMustBePrivateHexOfAtLeast32Bytes(@TempDir Path dir) throws Exception {
		Path key = dir.resolve("access-log.key");
		Files.writeString(key, KEY_HEX + "\n");
		Files.setPosixFilePermissions(key, PosixFilePermissions.fromString("rw-------"));
		assertEquals(KEY_HEX, HexFormat.of().formatHex(AccessLogRedactor.readKeyFile(key)));

		Files.setPosixFilePermissions(key, PosixFilePermissions.fromString("rw-r--r--"));
		IllegalStateException open = assertThrows(IllegalStateException.class, () -> AccessLogRedactor.readKeyFile(key));
		assertTrue(open.getMessage().contains("open to other users (rw-r--r--)"), open.getMessage());

		Files.setPosixFilePermissions(key, PosixFilePermissions.fromString("rw-------"));
		Files.writeString(key, KEY_HEX.substring(2));
		IllegalStateException shortKey = assertThrows(IllegalStateException.class, () -> AccessLogRedactor.readKeyFile(key));
		assertTrue(shortKey.getMessage().contains("at least 32 random bytes as hex"), shortKey.getMessage());
		assertFalse(shortKey.getMessage().contains(KEY_HEX.substring(2)), "the key is not in the message");

		Files.writeString(key, "not hex at all, not hex at all, not hex at all, not hex at all, ok");
		assertThrows(IllegalStateException.class, () -> AccessLogRedactor.readKeyFile(key));

		IllegalStateException missing = assertThrows(IllegalStateException.class,
				() -> AccessLogRedactor.readKeyFile(dir.resolve("absent.key")));
		assertTrue(missing.getMessage().contains("absent.key does not exist"), missing.getMessage());
	}

	@Test
	void logFileIsCreatedOwnerOnlyAndAnExistingOneIsTightened(@TempDir Path dir) throws Exception {
		Path log = dir.resolve("fhir-access.log");
		RedactingAccessLogValve.prepareLogFile(log);
		assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(log)));

		Files.setPosixFilePermissions(log, PosixFilePermissions.fromString("rw-rw-rw-"));
		RedactingAccessLogValve.prepareLogFile(log);
		assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(log)));

		Path link = dir.resolve("linked.log");
		Files.createSymbolicLink(link, log);
		IllegalStateException refused = assertThrows(IllegalStateException.class, () -> RedactingAccessLogValve.prepareLogFile(link));
		assertTrue(refused.getMessage().contains("not a regular file"), refused.getMessage());
	}

	private static String hashOf(String value) {
		return REDACTOR.hash(value.getBytes(StandardCharsets.UTF_8));
	}
}
