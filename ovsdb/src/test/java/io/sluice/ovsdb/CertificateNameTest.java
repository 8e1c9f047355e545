package io.sluice.ovsdb;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import org.junit.jupiter.api.Test;

/** The certificate name both allow-lists compare: the subject's CN, the most specific one when there are several. */
class CertificateNameTest {
  /** openssl req -x509 -subj "/C=US/O=Sluice test/CN=outer/OU=unit/CN=sw id:3b8e1f2a". */
  private static final String TWO_CNS =
      "-----BEGIN CERTIFICATE-----\n" +
      "MIIDljCCAn6gAwIBAgITXxJQCihcSRs98qzDnosbJpiBSzANBgkqhkiG9w0BAQsF\n" +
      "ADBbMQswCQYDVQQGEwJVUzEUMBIGA1UECgwLU2x1aWNlIHRlc3QxDjAMBgNVBAMM\n" +
      "BW91dGVyMQ0wCwYDVQQLDAR1bml0MRcwFQYDVQQDDA5zdyBpZDozYjhlMWYyYTAe\n" +
      "Fw0yNjEyMDUxNzA2MDdaFw0zNjEyMDIxNzA2MDdaMFsxCzAJBgNVBAYTAlVTMRQw\n" +
      "EgYDVQQKDAtTbHVpY2UgdGVzdDEOMAwGA1UEAwwFb3V0ZXIxDTALBgNVBAsMBHVu\n" +
      "aXQxFzAVBgNVBAMMDnN3IGlkOjNiOGUxZjJhMIIBIjANBgkqhkiG9w0BAQEFAAOC\n" +
      "AQ8AMIIBCgKCAQEA4HRJg9YXGBDVRlyI51saz5DgArR0eGScq/x6/n5yMtBSiyJA\n" +
      "hCGbZE2Oa/Q1NRMVBkVa/7zpzl29OfQFwOoZTczlKv9ffIzFdQC+Epll58yiT+5Q\n" +
      "v+93Kvff6YF38sJADEG0u4HxxviKD5nqLZSubYTj4HrJP70xjUp7YxGezBGu3wqM\n" +
      "LU0JjktI2ZivIoqmkM9h+nYpdKDQYHSGXNbwRVZTtgrtCZxlTFSFEF/3zzKTybGn\n" +
      "wRfcFJmlsao7DwTyh17Pwvf6s2uUDkBZA1KanGWkNogM2iYJmpoJIzkUnJqrAcXq\n" +
      "pm2Kfp92aNXXe7oeIa3L3f4srapej4aPRFz4OQIDAQABo1MwUTAdBgNVHQ4EFgQU\n" +
      "RxO4BiFBfDF3PFo1IoP4s78KH4YwHwYDVR0jBBgwFoAURxO4BiFBfDF3PFo1IoP4\n" +
      "s78KH4YwDwYDVR0TAQH/BAUwAwEB/zANBgkqhkiG9w0BAQsFAAOCAQEAHUuJZRM4\n" +
      "8R4pU+Gqw+OaAIRridkNXUsvbEvhx4Eo97dUwozVj4hZ5smZu30tXuoZBm1If3zj\n" +
      "SQv6554Pc9o7AJhlnVFxG5uECKhIXZwTh7VK/JjxKNlwtkO3ToEPLFmECokX8C+X\n" +
      "ENLmyi6dK5LETJeYw1+4vNYtg7aYSCCSXABzANyBmBPPcK/gREp88XuMd+iqGpUf\n" +
      "zo7iKPx2EW/NcxQSZ61otqpo6mKqdgfAjwKXFwQ04+hP7HbD1sVyASMJXk0d73tr\n" +
      "+m3Ne/1/tzVDcsCXBG2ERc9DNu6FjBLotfDQXy2QOhNI9gjcl70eio8/sP1DheET\n" +
      "RdHVWxLKuQ2E2w==\n" +
      "-----END CERTIFICATE-----\n";

  /** openssl req -x509 -subj "/O=No common name". */
  private static final String NO_CN =
      "-----BEGIN CERTIFICATE-----\n" +
      "MIIDEzCCAfugAwIBAgIULRMGOXH4vX8ola184yIY7jeW4CswDQYJKoZIhvcNAQEL\n" +
      "BQAwGTEXMBUGA1UECgwOTm8gY29tbW9uIG5hbWUwHhcNMjYxMjA1MTcwNjA3WhcN\n" +
      "MzYxMjAyMTcwNjA3WjAZMRcwFQYDVQQKDA5ObyBjb21tb24gbmFtZTCCASIwDQYJ\n" +
      "KoZIhvcNAQEBBQADggEPADCCAQoCggEBALzeYnyn7E4SAPUWmSi5G+HQKvJyaetl\n" +
      "77cTVHsEinva+pAqMuAqtkgFCPAEkiiboOGNe0P5BJTM5FSF7N2JpRHY5d5r31rm\n" +
      "hBTu/GbOT6r7WhUJgQ9+9OiSLJHAU3cHLaI/2APNywNmPhmbWnciYCfl/Y5TSYhB\n" +
      "Swgn0dKnn+ZkjnvwBjEQCuwWRbSXAnpSWor/mFOEESwJ2uM7bZystnzLcNnDJyi0\n" +
      "jfgQ3JIbPD3ZkZKooJFh63PsoVjs8erDhfRoUxJt1NgyfbEClREmSIuz8ae1n3vt\n" +
      "83OUp5oa04DuamfCLNrNwYn7iKqRIE3oCZl07SADjdlHR2FEbY31eI8CAwEAAaNT\n" +
      "MFEwHQYDVR0OBBYEFB3IZAfXGpSoibdqzE0/RXpOI7QZMB8GA1UdIwQYMBaAFB3I\n" +
      "ZAfXGpSoibdqzE0/RXpOI7QZMA8GA1UdEwEB/wQFMAMBAf8wDQYJKoZIhvcNAQEL\n" +
      "BQADggEBAJURq7xvhxQkB7ZJYJ4adD259pFPXTs26SEQ9YLNQnhXvszUqHhsHsaq\n" +
      "FtzYttQJ2Ml5Wa7w3fB+dAS1VzR3aimTbVY/M4FL2d5gix0sG9TbVlE7wCUsLbDQ\n" +
      "bl0/x/A1W6pQpKss786SYhalVbS5gZam04e3GT2nYO7dRt9n0Cr3ODfUOo0ox8cA\n" +
      "8IjJHfxktZxHr9fyAx/0/sVJ34dx/T1PD6zyxjTU8ouGWK3HzAVtG1CzXA1UxIsb\n" +
      "9Ydzp5dMI35CMiQVn26Y2r+jiVupJenk2t72kJmRbl65sr6VMRVNGG0bNpGMaDXg\n" +
      "2j5UQkdBfrjZTWFg3GMsMaXJtfDz3Fo=\n" +
      "-----END CERTIFICATE-----\n";

  private static X509Certificate cert(String pem) throws Exception {
    return (X509Certificate) CertificateFactory.getInstance("X.509")
        .generateCertificate(new ByteArrayInputStream(pem.getBytes(StandardCharsets.US_ASCII)));
  }

  @Test
  void theNameIsTheLastCommonNameAsOvsPkiWritesIt() throws Exception {
    assertThat(CertificateName.of(cert(TWO_CNS))).isEqualTo("sw id:3b8e1f2a");
  }

  @Test
  void aSubjectWithoutCommonNameHasNoName() throws Exception {
    assertThat(CertificateName.of(cert(NO_CN))).isNull();
  }

  @Test
  void noSessionOrAnUnverifiedPeerHasNoName() throws Exception {
    assertThat(CertificateName.ofPeer(null)).isNull();
    javax.net.ssl.SSLEngine engine = javax.net.ssl.SSLContext.getDefault().createSSLEngine();
    assertThat(CertificateName.ofPeer(engine.getSession())).as("no handshake: peer not verified").isNull();
  }
}
