package io.sluice.ovsdb;

import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.List;
import javax.naming.InvalidNameException;
import javax.naming.ldap.LdapName;
import javax.naming.ldap.Rdn;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;

/**
 * The name a TLS peer goes by: the common name (CN) of its certificate's subject, as Open vSwitch names peers and
 * as {@code ovs-pki} writes it ({@code sw id:...}); subject alternative names are not read. With several CNs, the most
 * specific one (the last in the subject as written) counts. Both allow-lists compare against this name: the
 * OpenFlow {@code --switches} list and the OVSDB {@code --ovsdb-nodes} list.
 */
public final class CertificateName {
  private CertificateName() { }

  /** The CN of the certificate the peer presented in {@code session}, or null when it presented none (or no CN). */
  public static String ofPeer(SSLSession session) {
    if (session == null) {
      return null;
    }
    try {
      Certificate[] chain = session.getPeerCertificates();
      return chain.length == 0 || !(chain[0] instanceof X509Certificate c) ? null : of(c);
    } catch (SSLPeerUnverifiedException e) {
      return null;
    }
  }

  /** The CN of {@code c}'s subject, or null when it has none. */
  public static String of(X509Certificate c) {
    try {
      List<Rdn> rdns = new LdapName(c.getSubjectX500Principal().getName()).getRdns();
      // LdapName lists RDNs from the right of the RFC 2253 string: the last one here is the leftmost there
      for (int i = rdns.size() - 1; i >= 0; i--) {
        if (rdns.get(i).getType().equalsIgnoreCase("CN")) {
          return String.valueOf(rdns.get(i).getValue());
        }
      }
      return null;
    } catch (InvalidNameException e) {
      return null;
    }
  }
}
