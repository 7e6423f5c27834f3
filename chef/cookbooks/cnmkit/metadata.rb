# frozen_string_literal: true

name 'cnmkit'
maintainer 'cnmkit'
license 'Apache-2.0'
description 'Preflight, then install or remove the eBPF network probe with cnmctl'
version '0.1.0'
chef_version '>= 16.0'
%w(debian ubuntu redhat centos amazon suse).each { |os| supports os }
