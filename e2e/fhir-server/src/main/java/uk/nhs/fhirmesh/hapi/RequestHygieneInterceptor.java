package uk.nhs.fhirmesh.hapi;

import ca.uhn.fhir.interceptor.api.Hook;
import ca.uhn.fhir.interceptor.api.Interceptor;
import ca.uhn.fhir.interceptor.api.Pointcut;
import ca.uhn.fhir.rest.api.server.RequestDetails;
import ca.uhn.fhir.rest.server.exceptions.BaseServerResponseException;
import ca.uhn.fhir.rest.server.exceptions.InvalidRequestException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;

/**
 * Keeps request values out of trouble and out of the server log:
 * <ul>
 *   <li>a NUL in a parameter name or value is refused with 400 naming the parameter (PostgreSQL
 *       cannot store NUL in text, and answered 500 with its own error text);</li>
 *   <li>failures are logged as exception type, HAPI code and status only. HAPI's own failure log lines
 *       quote the offending value (a date of birth, a name), so those loggers are switched off in
 *       application.properties and this hook logs instead.</li>
 * </ul>
 */
@Component
@Interceptor
public class RequestHygieneInterceptor {

	private static final Logger log = LoggerFactory.getLogger(RequestHygieneInterceptor.class);
	private static final Pattern HAPI_CODE = Pattern.compile("HAPI-\\d+");

	@Hook(Pointcut.SERVER_INCOMING_REQUEST_POST_PROCESSED)
	public void refuseNul(RequestDetails request) {
		for (Map.Entry<String, String[]> parameter : request.getParameters().entrySet()) {
			boolean nul = parameter.getKey().indexOf('\0') >= 0;
			for (String value : parameter.getValue()) {
				nul |= value != null && value.indexOf('\0') >= 0;
			}
			if (nul) {
				String name = parameter.getKey().replace('\0', '?');
				throw new InvalidRequestException("search parameter '" + name + "' contains a NUL character, which no FHIR value can hold");
			}
		}
	}

	@Hook(Pointcut.SERVER_HANDLE_EXCEPTION)
	public boolean logWithoutValues(RequestDetails request, BaseServerResponseException exception,
			HttpServletRequest servletRequest, HttpServletResponse servletResponse) {
		Matcher code = HAPI_CODE.matcher(String.valueOf(exception.getMessage()));
		String line = "request failed: " + exception.getClass().getSimpleName() + (code.find() ? " " + code.group() : "")
				+ ", HTTP " + exception.getStatusCode() + ", tenant " + request.getTenantId() + ", " + request.getRestOperationType();
		if (exception.getStatusCode() >= 500) {
			log.error(line);
		} else {
			log.info(line);
		}
		return true; // HAPI goes on to write the OperationOutcome as usual
	}
}
