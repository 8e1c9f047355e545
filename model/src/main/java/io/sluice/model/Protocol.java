package io.sluice.model;

/** An L4 protocol as Kubernetes names it in ports. */
public enum Protocol {
  TCP, UDP, SCTP
}
